"""The caption task's settings: its data config and its training defaults (the model's are
``rnnkit.models.captioner_config``), one CLI flag per field (``rnnkit caption train --help``), with their
valid values. Pure Python, no torch, so building the CLI's parsers never loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import opt, training_flags


@dataclass
class CaptionDataConfig:
    data: str | None = opt(None, "Flickr8k-style folder: a captions file, split files and an image folder "
                           "(e.g. ../shared/data/flickr8k)")
    captions: str = opt("Flickr8k.token.txt", "captions file in --data, one 'image#n<TAB>caption' per line")
    images: str = opt("images96", "image folder in --data")
    train_split: str = opt("Flickr_8k.trainImages.txt", "training images, one name per line, in --data")
    val_split: str = opt("Flickr_8k.devImages.txt", "validation images (early stopping, BLEU during training)")
    test_split: str = opt("Flickr_8k.testImages.txt", "test images (`rnnkit caption eval`)")
    image_size: int = opt(96, "images are resized to this many pixels square when they are not already",
                          low=8, high=1024)
    min_freq: int = opt(5, "words seen fewer times in the training captions become <unk>", low=1)
    max_words: int = opt(20, "training captions are cut to their first N words", low=1)
    captions_per_image: int = opt(0, "captions of each training image used per step, drawn at random (0: all of "
                                  "them; fewer makes a step cheaper, the image being encoded once either way)", low=0)
    crop_pad: int = opt(8, "augmentation: pad each training image by N pixels (edge) and crop a random "
                        "image-size window (0: off)", low=0)
    flip: bool = opt(True, "augmentation: flip training images horizontally with probability 1/2")
    image_cache: str = opt("~/.cache/rnnkit", "folder for the decoded-image cache (.npy, reused across runs; "
                           "'none': decode every run)")
    eval_images: int = opt(250, "validation images scored at each evaluation (loss and greedy BLEU-4; 0: all)", low=0)
    epochs: float = opt(0.0, "passes over the training images; when > 0 it sets --steps", low=0.0)


CaptionTrainFlags = training_flags(
    "CaptionTrainFlags", steps=20000, lr=1e-3, warmup=100, log_every=20, clip=5.0,
    batch_size=(32, "images per batch, each with its captions"),
    eval_every=(200, "evaluate on the validation images every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(0, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)
