"""Configuration of ``rnnkit caption``: the model, data and training settings, one CLI flag per field
(``rnnkit caption train --help``), with their valid values. Pure Python, no torch, so building the CLI's
parsers never loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import training_flags
from rnnkit.train.config import CELL_NAMES, DROPOUT, ENGINE_HELP, ENGINE_NAMES, INIT_NAMES, opt


@dataclass
class CaptionerConfig:
    variant: str = opt("attend", "attend (Show, Attend and Tell: soft attention over the image grid at every step), "
                       "show (Show and Tell: the image only initialises the state), blind (never sees the image)",
                       choices=("attend", "show", "blind"))
    channels: str = opt("32,64,128,256", "output channels of the CNN encoder's stages, each halving the image "
                        "(four stages: 96x96 pixels -> a 6x6 grid)")
    cell: str = opt("lstm", "recurrent cell of the decoder (see `rnnkit cells`)", choices=CELL_NAMES)
    embedding: int = opt(256, "word embedding size", low=1)
    hidden: int = opt(256, "hidden units of the decoder", low=1)
    attention_size: int = opt(256, "size of the additive attention's hidden layer (attend)", low=1)
    dropout: float = opt(0.3, "dropout on the word embeddings and before the output layer", **DROPOUT)
    doubly_stochastic: float = opt(1.0, "weight λ of the doubly stochastic attention regulariser "
                                   "λ (1/L) Σ_i (1 - Σ_t α_ti)² (attend; 0: off)", low=0.0)
    init: str = opt("default", "recurrent weight initialisation: default, orthogonal, identity, spectral",
                    choices=INIT_NAMES)
    forget_bias: float = opt(1.0, "forget-gate bias (LSTM family, GRU update gate)")
    engine: str = opt("auto", ENGINE_HELP, choices=ENGINE_NAMES)


@dataclass
class CaptionDataConfig:
    data: str | None = opt(None, "Flickr8k-style folder: a captions file, split files and an image folder "
                           "(e.g. ../shared/data/flickr8k)")
    captions: str = opt("Flickr8k.token.txt", "captions file in --data, one 'image#n<TAB>caption' per line")
    images: str = opt("images96", "image folder in --data")
    train_split: str = opt("Flickr_8k.trainImages.txt", "training images, one name per line, in --data")
    val_split: str = opt("Flickr_8k.devImages.txt", "validation images (early stopping, BLEU during training)")
    test_split: str = opt("Flickr_8k.testImages.txt", "test images (`rnnkit caption eval`)")
    image_size: int = opt(96, "images are resized to this many pixels square when they are not already", low=8)
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
