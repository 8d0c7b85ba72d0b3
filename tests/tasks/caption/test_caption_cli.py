"""``rnnkit caption train | eval | describe`` end to end on a tiny synthetic image set made in tmp_path:
coloured squares whose captions name the colour. Resuming continues exactly; bad input is one line."""

import json

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from conftest import one_line_error
from rnnkit.cli import main

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}
SIZE = ["--image-size", "24", "--channels", "4,8", "--hidden", "16", "--embedding", "8", "--attention-size", "8",
        "--min-freq", "1", "--batch-size", "4", "--lr", "1e-2", "--warmup", "0", "--eval-every", "4", "--threads", "1"]


def make_dataset(root):
    (root / "img").mkdir(parents=True)
    lines, names = [], []
    for colour, rgb in COLOURS.items():
        for k in range(5):
            pixels = np.full((24, 24, 3), 245, dtype=np.uint8)
            pixels[4 + k : 16 + k, 3 + k : 15 + k] = rgb
            name = f"{colour}{k}.png"
            Image.fromarray(pixels).save(root / "img" / name)
            names.append(name)
            lines += [f"{name}#0\tA {colour} square .", f"{name}#1\ta {colour} box on white"]
    lines += ["ghost.jpg.1#0\ta caption without an image", "a line without a tab"]
    (root / "captions.txt").write_text("\n".join(lines) + "\n")
    (root / "train.txt").write_text("\n".join(n for n in names if n[-5] in "012") + "\n")
    (root / "val.txt").write_text("\n".join(n for n in names if n[-5] == "3") + "\nnot-there.png\n")
    (root / "test.txt").write_text("\n".join(n for n in names if n[-5] == "4") + "\n")
    return ["--data", str(root), "--images", "img", "--captions", "captions.txt", "--train-split", "train.txt",
            "--val-split", "val.txt", "--test-split", "test.txt", "--image-cache", str(root / "cache")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("caption")
    data = make_dataset(root / "data")
    run = root / "run"
    assert main(["caption", "train", *data, *SIZE, "--steps", "8", "--out", str(run)]) == 0
    return root, data, run


@pytest.mark.slow
def test_training_reports_skipped_lines_and_writes_a_run_folder(trained, capsys):
    root, data, run = trained
    for name in ("best/model.safetensors", "checkpoint/config.json", "metrics.jsonl", "loss.png"):
        assert (run / name).exists(), name
    records = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("val_bleu4" in r for r in records) and records[-1]["step"] == 8
    meta = json.loads((run / "checkpoint" / "config.json").read_text())
    assert meta["task"] == "caption" and meta["vocab"][:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert len(list((root / "data" / "cache").glob("*.npy"))) == 1


@pytest.mark.slow
def test_resume_continues_exactly_like_an_uninterrupted_run(trained, tmp_path):
    root, data, run = trained
    flags = [*data, *SIZE, "--schedule", "constant"]  # the learning rate must not depend on --steps
    straight = tmp_path / "straight"
    assert main(["caption", "train", *flags, "--steps", "12", "--out", str(straight)]) == 0
    resumed = tmp_path / "resumed"
    assert main(["caption", "train", *flags, "--steps", "8", "--out", str(resumed)]) == 0
    assert main(["caption", "train", *flags, "--steps", "12", "--out", str(resumed), "--resume"]) == 0
    a, b = load_file(str(straight / "checkpoint/model.safetensors")), load_file(str(resumed / "checkpoint/model.safetensors"))
    assert a.keys() == b.keys() and all(np.allclose(a[k].numpy(), b[k].numpy(), atol=1e-6) for k in a)


@pytest.mark.slow
def test_eval_prints_bleu_1_to_4_for_each_decoder_and_the_baselines(trained, tmp_path, capsys):
    _, _, run = trained
    out = tmp_path / "scores.json"
    assert main(["caption", "eval", "--checkpoint", str(run), "--decoder", "greedy,beam", "--beam", "2",
                 "--baseline", "pixels,features", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test split" in text and "3 images, 6 reference captions" in text and "CIDEr is not computed" in text
    scores = json.loads(out.read_text())["scores"]
    assert set(scores) == {"greedy", "beam 2", "nearest pixels", "nearest features"}
    assert all(0 <= s[f"bleu{n}"] <= 100 + 1e-9 for s in scores.values() for n in (1, 2, 3, 4))
    assert scores["nearest pixels"]["bleu1"] > 99  # the nearest square has the same colour, so a true caption


@pytest.mark.slow
def test_describe_with_decoders_n_best_and_the_attention_figure(trained, tmp_path, capsys):
    root, _, run = trained
    images = [str(root / "data" / "img" / n) for n in ("red4.png", "blue4.png")]
    assert main(["caption", "describe", "--checkpoint", str(run), *images, "--decoder", "greedy",
                 "--attention", str(tmp_path / "att.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(images[0] + ": ")
    assert (tmp_path / "att.png").stat().st_size > 1000
    assert main(["caption", "describe", "--checkpoint", str(run), images[0], "--decoder", "sample", "--n-best", "3",
                 "--temperature", "0.8"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # the path, then three captions with their scores


def test_bad_input_is_one_line(trained, tmp_path, capsys):
    root, data, run = trained
    assert main(["caption", "train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "is not a folder")
    broken = list(data)
    broken[broken.index("img")] = "pictures"
    assert main(["caption", "train", *broken, "--out", str(tmp_path / "r2")]) == 2
    one_line_error(capsys, "image folder not found")
    (tmp_path / "bad.txt").write_text("ghost.png\n")
    split = list(data)
    split[split.index("test.txt")] = str(tmp_path / "bad.txt")
    assert main(["caption", "eval", "--checkpoint", str(run), "--data", str(root / "data")]) == 0
    capsys.readouterr()
    assert main(["caption", "train", *split, "--out", str(tmp_path / "r3")]) == 2
    one_line_error(capsys, "names no known image")
    (tmp_path / "broken.jpg").write_bytes(b"\x00garbage")
    assert main(["caption", "describe", "--checkpoint", str(run), str(tmp_path / "broken.jpg")]) == 2
    one_line_error(capsys, "cannot read image")
    assert main(["caption", "train", "--out", str(tmp_path / "r4")]) == 2
    one_line_error(capsys, "--data DIR is required")
