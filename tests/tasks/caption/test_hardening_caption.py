"""Caption data and checkpoints under bad input: a checkpoint cannot choose the image cache eval writes,
eval names the folder it reads from the checkpoint, sizes are bounded (flags, checkpoints, decompression
bombs), and caption files follow every task's text rules (UTF-8, no NUL)."""

import json

import pytest
from PIL import Image

from conftest import one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.tasks.caption.images import load_image
from test_caption_cli import SIZE, make_dataset

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_checkpoint_cannot_choose_where_eval_writes(tmp_path, capsys):
    data = make_dataset(tmp_path / "data")
    run = tmp_path / "run"
    assert main(["caption", "train", *data, *SIZE, "--steps", "2", "--out", str(run)]) == 0
    elsewhere = tmp_path / "elsewhere" / "cache"
    for name in ("best", "checkpoint"):
        config = run / name / "config.json"
        meta = json.loads(config.read_text())
        meta["configs"]["data"]["image_cache"] = str(elsewhere)
        config.write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["caption", "eval", "--checkpoint", str(run), "--image-cache", str(tmp_path / "mine")]) == 0
    err = capsys.readouterr().err
    assert not (tmp_path / "elsewhere").exists()  # the folder the checkpoint named is never made
    assert list((tmp_path / "mine").glob("*.npy"))  # the one the user named is
    assert f"--data not given: reading {tmp_path / 'data'} (captions.txt, img/, test.txt), the folder named" in err

    meta["configs"]["data"]["image_size"] = 100000  # 22.5 GB for describe before; now outside the declared range
    (run / "best" / "config.json").write_text(json.dumps(meta))
    assert main(["caption", "describe", "--checkpoint", str(run / "best"), str(tmp_path / "data" / "img" / "red0.png")]) == 2
    one_line_error(capsys, r"corrupt checkpoint .*image_size must be an integer in \[8, 1024\], got 100000")


def test_image_size_is_bounded_on_the_command_line(capsys):
    assert main(["caption", "train", "--data", ".", "--image-size", "100000"]) == 2
    one_line_error(capsys, r"--image-size must be an integer in \[8, 1024\], got '100000'")


def test_a_decompression_bomb_is_one_line(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)  # 400 M pixels in a small file
    with pytest.raises(RnnkitError, match=r"image .*bomb.png is too large to decode"):
        load_image(bomb, 24)


@pytest.mark.parametrize("content, message", [("red0.png#0\tA caf\xe9 .\n".encode("latin-1"), "is not UTF-8 text"),
                                              (b"red0.png#0\tA red\x00 square .\n", "looks binary")])
def test_caption_files_follow_the_text_rules(tmp_path, capsys, content, message):
    data = make_dataset(tmp_path / "data")
    (tmp_path / "data" / "captions.txt").write_bytes(content)
    assert main(["caption", "train", *data, *SIZE, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys, message)
    assert not (tmp_path / "run").exists()
