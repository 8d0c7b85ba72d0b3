"""The audio front end for speech: read a WAV file, turn it into log-mel filterbank or MFCC frames with
``torch.stft``, normalise each utterance, and mask it for SpecAugment.

    samples x (N,) --pre-emphasis--> x_n - 0.97 x_{n-1}
      --frames of 25 ms every 10 ms, Hamming window, |FFT|^2 / n_fft--> power P (T, n_fft/2 + 1)
      --triangular mel filters M (n_fft/2 + 1, F)--> log(P M) (T, F)        (log-mel filterbank)
      --DCT-II (orthonormal), first C coefficients, liftering--> MFCC (T, C)

mel(f) = 2595 log10(1 + f / 700). Framing and filters follow python_speech_features (the filters are
triangles on FFT bins, bin(f) = floor((n_fft + 1) f / rate)); tests/data/test_audio.py checks equality with it.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.errors import RnnkitError

EPS = 1e-10  # floor of the filterbank energies before the log (digital silence)


def read_wav(path, rate: int = 8000) -> torch.Tensor:
    """Mono 16-bit PCM samples of ``path`` as floats in [-1, 1), shape ``(N,)``; one-line errors for a
    missing file, a file that is not WAV, more than one channel, another sample rate, or no samples."""
    path = Path(path)
    if not path.is_file():
        raise RnnkitError(f"audio file not found: {path}")
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, found_rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise RnnkitError(f"{path} is not a WAV file ({e}); give a mono 16-bit PCM .wav file") from None
    if channels != 1:
        raise RnnkitError(f"{path} has {channels} channels; give a mono recording (1 channel)")
    if width != 2:
        raise RnnkitError(f"{path} has {8 * width}-bit samples; give 16-bit PCM")
    if found_rate != rate:
        raise RnnkitError(f"{path} is sampled at {found_rate} Hz; the model expects {rate} Hz (resample it first)")
    if n == 0 or len(raw) < 2:
        raise RnnkitError(f"{path} is an empty recording (0 samples)")
    samples = torch.frombuffer(bytearray(raw[: 2 * (len(raw) // 2)]), dtype=torch.int16)
    return samples.to(torch.float32) / 32768.0


def write_wav(path, samples: torch.Tensor, rate: int = 8000) -> None:
    """Write ``samples (N,)`` in [-1, 1] as a mono 16-bit PCM WAV file (the inverse of ``read_wav``)."""
    ints = (samples.clamp(-1.0, 32767 / 32768) * 32768.0).round().to(torch.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(ints.numpy().astype("<i2").tobytes())


def hz_to_mel(f):
    return 2595.0 * math.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_mels: int, n_fft: int, rate: int, low: float = 0.0, high: float | None = None,
                   dtype=torch.float64) -> torch.Tensor:
    """Triangular filters ``(n_fft // 2 + 1, n_mels)``: filter j rises from bin b_j to b_{j+1} and falls
    to b_{j+2}, the b's equally spaced on the mel scale between ``low`` and ``high`` (default rate / 2)."""
    high = rate / 2 if high is None else high
    if not 0 <= low < high <= rate / 2:
        raise RnnkitError(f"mel filters need 0 <= low < high <= {rate / 2} Hz, got {low}..{high}")
    lo, hi = hz_to_mel(low), hz_to_mel(high)
    points = [lo + (hi - lo) * i / (n_mels + 1) for i in range(n_mels + 2)]
    bins = [math.floor((n_fft + 1) * mel_to_hz(m) / rate) for m in points]
    fb = torch.zeros(n_fft // 2 + 1, n_mels, dtype=dtype)
    for j in range(n_mels):
        left, centre, right = bins[j], bins[j + 1], bins[j + 2]
        for k in range(left, centre):
            fb[k, j] = (k - left) / (centre - left)
        for k in range(centre, right):
            fb[k, j] = (right - k) / (right - centre)
    return fb


def dct_matrix(n_in: int, n_out: int, dtype=torch.float64) -> torch.Tensor:
    """Orthonormal DCT-II ``(n_in, n_out)``: c_k = s_k sum_n x_n cos(pi k (2n + 1) / (2 n_in)),
    s_0 = sqrt(1 / n_in), s_k = sqrt(2 / n_in)."""
    n = torch.arange(n_in, dtype=dtype).unsqueeze(1)
    k = torch.arange(n_out, dtype=dtype).unsqueeze(0)
    d = torch.cos(math.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    d[:, 0] /= math.sqrt(2.0)
    return d


@dataclass(frozen=True)
class FeatureSpec:
    """How to turn samples into frames (the defaults suit 8 kHz speech)."""

    kind: str = "logmel"  # logmel or mfcc
    rate: int = 8000  # samples per second
    win: float = 0.025  # window length (s)
    hop: float = 0.010  # frame step (s)
    n_fft: int = 256  # FFT size (>= the window in samples)
    n_mels: int = 40  # mel filters
    n_mfcc: int = 13  # cepstra kept (mfcc)
    lifter: int = 22  # cepstral liftering 1 + (L/2) sin(pi n / L) (0: off)
    preemphasis: float = 0.97

    @property
    def size(self) -> int:
        return self.n_mels if self.kind == "logmel" else self.n_mfcc


FEATURES = ("logmel", "mfcc")


class FrontEnd:
    """``FrontEnd(spec)(samples (N,)) -> features (T, F)`` in float32; the filters are built once."""

    def __init__(self, spec: FeatureSpec = FeatureSpec()):
        if spec.kind not in FEATURES:
            raise RnnkitError(f"unknown features {spec.kind!r}; choose one of: {', '.join(FEATURES)}")
        self.spec = spec
        self.win = round(spec.win * spec.rate)
        self.hop = round(spec.hop * spec.rate)
        if not 0 < self.win <= spec.n_fft or self.hop < 1:
            raise RnnkitError(f"need 0 < window ({self.win} samples) <= --n-fft ({spec.n_fft}) and a hop >= 1 sample")
        if spec.kind == "mfcc" and not 0 < spec.n_mfcc <= spec.n_mels:
            raise RnnkitError(f"need 0 < MFCCs ({spec.n_mfcc}) <= mel filters ({spec.n_mels})")
        self.window = torch.hamming_window(self.win, periodic=False, dtype=torch.float64)
        self.filters = mel_filterbank(spec.n_mels, spec.n_fft, spec.rate)  # (K, F)
        self.dct = dct_matrix(spec.n_mels, spec.n_mfcc)  # (F, C)
        n = torch.arange(spec.n_mfcc, dtype=torch.float64)
        self.lift = 1 + (spec.lifter / 2) * torch.sin(math.pi * n / spec.lifter) if spec.lifter else torch.ones_like(n)

    def frames(self, n: int) -> int:
        """Frames of a recording of ``n`` samples: 1 + ceil((n - win) / hop); the last one zero-padded."""
        return 1 if n <= self.win else 1 + math.ceil((n - self.win) / self.hop)

    def power(self, samples: torch.Tensor) -> torch.Tensor:
        """Power spectrum ``(T, n_fft // 2 + 1)`` of the pre-emphasised, windowed frames."""
        x = samples.to(torch.float64)
        x = torch.cat([x[:1], x[1:] - self.spec.preemphasis * x[:-1]])
        T = self.frames(len(x))
        # frame t is x[t hop : t hop + win]; torch.stft centres the window in each n_fft block, so pad
        # the left by the offset it uses and the right to a whole last block
        offset = (self.spec.n_fft - self.win) // 2
        total = (T - 1) * self.hop + self.spec.n_fft
        x = torch.nn.functional.pad(x, (offset, total - offset - len(x)))
        spec = torch.stft(x, self.spec.n_fft, self.hop, self.win, self.window, center=False, return_complex=True)
        return spec.abs().square().T / self.spec.n_fft  # (T, K)

    def logmel(self, samples: torch.Tensor) -> torch.Tensor:
        energies = self.power(samples) @ self.filters  # (T, F)
        return torch.log(energies.clamp_min(EPS))

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        feats = self.logmel(samples)  # (T, n_mels)
        if self.spec.kind == "mfcc":
            feats = (feats @ self.dct) * self.lift  # (T, n_mfcc)
        return feats.to(torch.float32)


def cmvn(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-utterance mean and variance normalisation of ``(T, F)``: each feature has mean 0 and standard
    deviation 1 over the utterance's frames (a constant feature becomes 0)."""
    mean = features.mean(0, keepdim=True)
    std = features.std(0, unbiased=False, keepdim=True)
    return (features - mean) / (std + eps)


def spec_augment(features: torch.Tensor, freq_masks: int = 2, freq_width: int = 8, time_masks: int = 2,
                 time_width: int = 10, max_time_fraction: float = 0.2,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """SpecAugment's masking (Park et al. 2019, without time warping) of ``(T, F)``: ``freq_masks`` bands
    of f ~ U{0..freq_width} adjacent features and ``time_masks`` bands of t ~ U{0..min(time_width,
    max_time_fraction T)} adjacent frames are set to 0 (the mean after ``cmvn``). Returns a copy."""
    T, F = features.shape
    out = features.clone()
    draw = lambda high: int(torch.randint(0, high + 1, (1,), generator=generator))
    for _ in range(freq_masks):
        f = draw(min(freq_width, F))
        f0 = draw(F - f)
        out[:, f0 : f0 + f] = 0.0
    longest = min(time_width, int(max_time_fraction * T))
    for _ in range(time_masks):
        t = draw(longest)
        t0 = draw(T - t)
        out[t0 : t0 + t] = 0.0
    return out
