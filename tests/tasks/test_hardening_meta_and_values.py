"""The last two tracebacks of the hardening round: a classifier checkpoint whose meta lacks its class counts,
and a series holding a value too large to scale (1e308), each end in one line naming what is wrong."""

import json
import shutil

from conftest import ROOT, one_line_error
from rnnkit.cli import main


def test_a_classifier_checkpoint_without_class_counts_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "fixtures" / "classify" / "run", run)
    config = run / "best" / "config.json"
    meta = json.loads(config.read_text())
    del meta["class_counts"]
    config.write_text(json.dumps(meta))
    dev = ROOT / "tests" / "fixtures" / "data" / "classify" / "dev.tsv"
    assert main(["classify", "eval", "--checkpoint", str(run), "--data", str(dev)]) == 2
    one_line_error(capsys, r"corrupt checkpoint .*class_counts must be a list of 2 counts")


def test_a_series_value_too_large_to_scale_is_one_line(tmp_path, capsys):
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{1e308 if i == 40 else float(i % 12)}" for i in range(80)]
    series = tmp_path / "s.csv"
    series.write_text("date,value\n" + "\n".join(rows) + "\n")
    assert main(["forecast", "train", "--data", str(series), "--steps", "2", "--out", str(tmp_path / "f")]) == 2
    one_line_error(capsys, r"line 42: value '1e\+308' .* too large to scale")
    assert not (tmp_path / "f").exists()
