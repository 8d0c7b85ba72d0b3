"""What a new user of the language model meets in the first hour: samples on their own schedule,
``rnnkit eval``'s default protocol (the run's validation), the hint printed after training runs as printed,
resuming a finished run says so, and decoding that does not repeat itself."""

import json
import re

import pytest

from rnnkit.cli import main

SMALL = ["--hidden", "16", "--layers", "1", "--embedding", "8", "--seq-len", "16", "--batch-size", "4",
         "--eval-windows", "4", "--eval-window", "32", "--log-every", "10", "--warmup", "0", "--threads", "1"]


def train(tmp_path, corpus, *extra, name="run"):
    out = tmp_path / name
    return main(["train", "--corpus", str(corpus), "--out", str(out), *SMALL, *extra]), out


def test_samples_follow_their_own_schedule_and_end_the_run(tmp_path, periodic_corpus, capsys):
    code, _ = train(tmp_path, periodic_corpus, "--steps", "70", "--eval-every", "20", "--sample-every", "30")
    assert code == 0
    out = capsys.readouterr()
    steps = [int(s) for s in re.findall(r"sample at step (\d+)", out.out + out.err)]
    assert steps == [30, 60, 70]  # every 30 steps whatever --eval-every is, and one at the end
    code, _ = train(tmp_path, periodic_corpus, "--steps", "20", "--eval-every", "10", "--sample-every", "0", name="quiet")
    assert code == 0 and "sample at step" not in "".join(capsys.readouterr())


def test_eval_defaults_to_the_runs_validation_protocol(tmp_path, periodic_corpus, capsys):
    text = "".join(f"line {i % 97} of the corpus, {i * 7 % 13} cats.\n" for i in range(400))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text)
    code, out = train(tmp_path, corpus, "--steps", "30", "--eval-every", "30", "--sample-every", "0")
    assert code == 0
    printed = capsys.readouterr().out
    assert re.search(r"^done \(steps\) at step 30 after \d+ s: validation loss \d\.\d{4} nats/char", printed, re.M)
    hint = re.search(r"score it with: (.*)$", printed, re.M).group(1)
    assert hint.split() == ["rnnkit", "eval", "--checkpoint", str(out)]  # the command run next, as printed
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    val = [r["val_loss"] for r in records if "val_loss" in r][-1]
    assert main(hint.split()[1:]) == 0  # no flags: the held-out tail, the run's windows
    captured = capsys.readouterr()
    assert "the run's validation protocol" in captured.err and "its last 0.1" in captured.err
    loss = float(re.search(r"loss (\d+\.\d+) nats/char", captured.out).group(1))
    assert loss == pytest.approx(val, abs=1e-4)  # the same number as the run's last validation
    assert main(["eval", "--checkpoint", str(out), "--windows", "0"]) == 0  # the tail, state carried
    captured = capsys.readouterr()
    assert "state carried" in captured.out and f"({int(len(text) * 0.1):,} characters)" in captured.out
    assert main(["eval", "--checkpoint", str(out), "--last", "1", "--windows", "0"]) == 0  # the whole text
    assert f"the whole text, {len(text):,} characters" in capsys.readouterr().out


def test_resuming_a_finished_run_says_it_is_complete(tmp_path, periodic_corpus, capsys):
    code, out = train(tmp_path, periodic_corpus, "--steps", "10", "--eval-every", "10", "--sample-every", "0")
    assert code == 0
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"the run in {out} is complete at step 10 (its --steps 10 is reached)" in err
    assert "resume it with a larger --steps, e.g. --steps 20" in err
    assert main(["train", "--out", str(out), "--resume", "--steps", "12"]) == 0  # and that works
    assert json.loads((out / "checkpoint" / "config.json").read_text())["step"] == 12


@pytest.mark.slow
def test_sample_blocks_repeated_ngrams(tmp_path, periodic_corpus, capsys):
    code, out = train(tmp_path, periodic_corpus, "--steps", "40", "--lr", "0.02", "--eval-every", "40",
                      "--sample-every", "0")
    assert code == 0
    capsys.readouterr()
    for flags in (["--temperature", "0"], ["--beam", "3"], ["--seed", "1"]):
        assert main(["sample", "--checkpoint", str(out), "--prime", "the ", "--length", "60", "--no-repeat-ngram", "6",
                     *flags]) == 0
        text = capsys.readouterr().out.rstrip("\n")
        grams = [text[i:i + 6] for i in range(len(text) - 5)]
        assert len(grams) == len(set(grams)), (flags, text)
    try:
        code = main(["sample", "--checkpoint", str(out), "--repetition-penalty", "0.5"])
    except SystemExit as e:
        code = e.code
    assert code == 2 and "--repetition-penalty" in capsys.readouterr().err
