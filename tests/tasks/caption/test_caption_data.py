"""Captioning data: the captions and split readers (skipped lines counted and reported), tokenisation, the
vocabulary, Pillow loading with one-line errors, the decoded-image cache and the augmentation."""

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SHARED_DATA
from rnnkit.errors import RnnkitError
from rnnkit.tasks.caption.data import build_vocab, image_folder, read_captions, read_split, tokenise
from rnnkit.tasks.caption.images import augment, load_image, load_images

FLICKR = SHARED_DATA / "flickr8k"


def write_images(folder, names, size=16):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        pixels = np.full((size, size, 3), 40 * i % 256, dtype=np.uint8)
        pixels[:, : size // 2, 0] = 255
        Image.fromarray(pixels).save(folder / name)


def test_tokenise_lowercases_and_drops_punctuation():
    assert tokenise("A dog's ball , in the  GRASS .") == ["a", "dog's", "ball", "in", "the", "grass"]
    assert tokenise(" . ") == []


def test_captions_reader_skips_counts_and_reports_bad_lines(tmp_path):
    write_images(tmp_path / "img", ["a.jpg", "b.png"])
    path = tmp_path / "captions.txt"
    path.write_text("a.jpg#0\tA red Square .\n"
                    "a.jpg#1\tA square\n"
                    "b.png#0\tTwo squares\n"
                    "missing.jpg.1#0\tno image here\n"
                    "no tab on this line\n"
                    "b.png\tno caption number\n"
                    "b.png#1\t . \n"
                    "\n")
    found = read_captions(path, image_folder(tmp_path / "img"))
    assert found.by_image == {"a.jpg": ["A red Square .", "A square"], "b.png": ["Two squares"]}
    assert found.lines == 7 and len(found.skipped) == 4
    report = found.report(path)
    assert "3 captions of 2 images; skipped 4" in report
    assert "1 whose image is not in the image folder (e.g. 'missing.jpg.1')" in report
    assert "1 without a tab" in report and "1 with an empty caption" in report and "without '#n'" in report


def test_split_reader_skips_unknown_names_and_refuses_a_split_naming_no_known_image(tmp_path):
    write_images(tmp_path / "img", ["a.jpg", "b.jpg"])
    (tmp_path / "c.txt").write_text("a.jpg#0\ta cat\nb.jpg#0\ta dog\n")
    captions = read_captions(tmp_path / "c.txt", image_folder(tmp_path / "img"))
    (tmp_path / "split.txt").write_text("b.jpg\nghost.jpg\na.jpg\nb.jpg\n")
    logged = []
    assert read_split(tmp_path / "split.txt", captions, logged.append) == ["b.jpg", "a.jpg"]
    assert "1 without an image or captions (e.g. 'ghost.jpg')" in logged[0]
    (tmp_path / "bad.txt").write_text("ghost.jpg\nother.jpg\n")
    with pytest.raises(RnnkitError, match="names no known image"):
        read_split(tmp_path / "bad.txt", captions)
    with pytest.raises(RnnkitError, match="split file not found"):
        read_split(tmp_path / "none.txt", captions)


def test_missing_image_folder_and_unreadable_image_are_one_line_errors(tmp_path):
    with pytest.raises(RnnkitError, match="image folder not found"):
        image_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RnnkitError, match="holds no image"):
        image_folder(tmp_path / "empty")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(RnnkitError, match="cannot read image .*broken.jpg") as e:
        load_image(tmp_path / "broken.jpg", 16)
    assert "\n" not in str(e.value)
    with pytest.raises(RnnkitError, match="image not found"):
        load_image(tmp_path / "gone.jpg", 16)


def test_vocabulary_has_the_sequence_symbols_first_and_a_frequency_floor(tmp_path):
    write_images(tmp_path / "img", ["a.jpg", "b.jpg"])
    (tmp_path / "c.txt").write_text("a.jpg#0\ta red square\na.jpg#1\ta blue square\nb.jpg#0\ta red circle\n")
    captions = read_captions(tmp_path / "c.txt", image_folder(tmp_path / "img"))
    vocab = build_vocab(captions, ["a.jpg", "b.jpg"], min_freq=2)
    assert vocab.tokens == ["<pad>", "<unk>", "<s>", "</s>", "a", "red", "square"]
    assert build_vocab(captions, ["b.jpg"], 1).tokens[4:] == ["a", "circle", "red"]  # only the given images
    with pytest.raises(RnnkitError, match="min-freq"):
        build_vocab(captions, ["a.jpg"], 0)


def test_images_are_decoded_once_resized_and_cached(tmp_path):
    write_images(tmp_path / "img", ["a.jpg", "b.png", "c.png"], size=20)
    logged = []
    first = load_images(tmp_path / "img", ["b.png", "a.jpg"], 16, tmp_path / "cache", logged.append)
    assert first.shape == (2, 16, 16, 3) and first.dtype == torch.uint8
    assert any("decoded" in l for l in logged) and len(list((tmp_path / "cache").glob("*.npy"))) == 1
    logged.clear()
    again = load_images(tmp_path / "img", ["b.png", "a.jpg"], 16, tmp_path / "cache", logged.append)
    assert torch.equal(first, again) and "from the cache" in logged[0]
    write_images(tmp_path / "img", ["x.png", "b.png"], size=20)  # b.png rewritten: the cache is stale
    logged.clear()
    load_images(tmp_path / "img", ["b.png", "a.jpg"], 16, tmp_path / "cache", logged.append)
    assert "decoded" in logged[0]
    load_images(tmp_path / "img", ["c.png"], 16, "none", logged.append)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2


def test_augmentation_is_an_edge_padded_random_crop_and_a_flip():
    images = torch.randint(0, 256, (6, 10, 12, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    g = torch.Generator().manual_seed(1)
    assert torch.equal(augment(images, 0, False, g), images)
    flipped = augment(images, 0, True, torch.Generator().manual_seed(2))
    assert all(torch.equal(f, i) or torch.equal(f, i.flip(1)) for f, i in zip(flipped, images))
    out = augment(images, 3, False, torch.Generator().manual_seed(3))
    padded = np.pad(images.numpy(), ((0, 0), (3, 3), (3, 3), (0, 0)), mode="edge")
    for o, p in zip(out.numpy(), padded):  # every output is some 10x12 window of the edge-padded image
        assert any(np.array_equal(o, p[y : y + 10, x : x + 12]) for y in range(7) for x in range(7))
    assert torch.equal(out, augment(images, 3, False, torch.Generator().manual_seed(3)))  # seeded


@pytest.mark.skipif(not FLICKR.exists(), reason=f"Flickr8k not found at {FLICKR} (../shared/data)")
def test_flickr8k_known_bad_id_is_skipped_and_the_standard_split_read():
    captions = read_captions(FLICKR / "Flickr8k.token.txt", image_folder(FLICKR / "images96"))
    assert captions.lines == 40460 and len(captions.by_image) == 8091
    assert captions.skipped.counts == {"whose image is not in the image folder": 5}
    assert "2258277193_586949ec62.jpg.1" in captions.report("x")
    sizes = [len(read_split(FLICKR / f"Flickr_8k.{s}Images.txt", captions)) for s in ("train", "dev", "test")]
    assert sizes == [6000, 1000, 1000]
