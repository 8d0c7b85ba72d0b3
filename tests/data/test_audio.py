"""The audio front end: log-mel and MFCC equal python_speech_features' (the reference, a test-only
dependency), CMVN, SpecAugment's masks, and a one-line error for each bad WAV."""

import math
import wave

import numpy as np
import pytest
import torch

from rnnkit.data import audio
from rnnkit.data.audio import FeatureSpec, FrontEnd, cmvn, dct_matrix, read_wav, spec_augment
from rnnkit.errors import RnnkitError

psf = pytest.importorskip("python_speech_features")


def write_wav(path, samples, rate=8000, channels=1, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2" if width == 2 else "u1").tobytes())
    return path


def test_read_wav_round_trip(tmp_path):
    ints = np.array([0, 1000, -1000, 32767, -32768], dtype=np.int16)
    x = read_wav(write_wav(tmp_path / "a.wav", ints))
    assert x.dtype == torch.float32 and torch.equal(x, torch.tensor(ints / 32768.0, dtype=torch.float32))
    audio.write_wav(tmp_path / "b.wav", x)
    assert torch.equal(read_wav(tmp_path / "b.wav"), x)


@pytest.mark.parametrize("kind, make, message", [
    ("missing", lambda p: p / "nope.wav", "audio file not found"),
    ("not wav", lambda p: (p / "x.wav").write_text("hello, not audio") and p / "x.wav", "is not a WAV file"),
    ("stereo", lambda p: write_wav(p / "s.wav", np.zeros(200, np.int16), channels=2), "2 channels; give a mono"),
    ("rate", lambda p: write_wav(p / "r.wav", np.zeros(100, np.int16), rate=16000), "sampled at 16000 Hz"),
    ("8-bit", lambda p: write_wav(p / "b.wav", np.full(100, 128, np.uint8), width=1), "8-bit samples"),
    ("empty", lambda p: write_wav(p / "e.wav", np.zeros(0, np.int16)), "empty recording"),
])
def test_bad_wav_one_line_errors(tmp_path, kind, make, message):
    with pytest.raises(RnnkitError, match=message) as e:
        read_wav(make(tmp_path))
    assert "\n" not in str(e.value)


@pytest.fixture
def signal():
    """A vowel-like signal (harmonics of 140 Hz) with noise: every filter has energy."""
    g = np.random.default_rng(0)
    t = np.arange(3200) / 8000
    x = sum(np.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 20)) * 0.2 + 0.01 * g.standard_normal(len(t))
    return x[:3177]  # not a whole number of hops: the last frame is zero-padded


def test_logmel_equals_python_speech_features(signal):
    fe = FrontEnd(FeatureSpec(kind="logmel", n_mels=40, n_fft=256))
    ours = fe.logmel(torch.tensor(signal)).numpy()  # float64
    energies, _ = psf.fbank(signal, samplerate=8000, winlen=0.025, winstep=0.01, nfilt=40, nfft=256, preemph=0.97,
                            winfunc=np.hamming)
    assert ours.shape == energies.shape == (1 + math.ceil((3177 - 200) / 80), 40)
    np.testing.assert_allclose(ours, np.log(energies), rtol=0, atol=1e-9)  # float64 against float64


def test_mfcc_equals_python_speech_features(signal):
    fe = FrontEnd(FeatureSpec(kind="mfcc", n_mels=26, n_mfcc=13, n_fft=512, lifter=22))
    ours = fe(torch.tensor(signal)).numpy()  # float32 out
    ref = psf.mfcc(signal, samplerate=8000, winlen=0.025, winstep=0.01, numcep=13, nfilt=26, nfft=512, preemph=0.97,
                   ceplifter=22, appendEnergy=False, winfunc=np.hamming)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)  # float32 rounding of values up to ~100


def test_dct_is_orthonormal():
    d = dct_matrix(8, 8)
    assert torch.allclose(d.T @ d, torch.eye(8, dtype=torch.float64), atol=1e-12)


def test_cmvn_zero_mean_unit_variance():
    x = torch.randn(50, 6) * torch.tensor([1.0, 2, 3, 4, 5, 6]) + 10
    x[:, 5] = 3.0  # a constant feature becomes 0, not NaN
    y = cmvn(x)
    assert torch.allclose(y.mean(0), torch.zeros(6), atol=1e-5)
    assert torch.allclose(y[:, :5].std(0, unbiased=False), torch.ones(5), atol=1e-4)
    assert torch.equal(y[:, 5], torch.zeros(50))


def test_spec_augment_masks_bands_and_spans():
    x = torch.ones(100, 40)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        y = spec_augment(x, freq_masks=1, freq_width=8, time_masks=1, time_width=30, max_time_fraction=0.2, generator=g)
        zero_cols = (y == 0).all(0).nonzero().flatten()
        zero_rows = (y == 0).all(1).nonzero().flatten()
        assert len(zero_cols) <= 8 and len(zero_rows) <= 20  # time masks capped at 20% of the 100 frames
        for idx in (zero_cols, zero_rows):  # each mask is one contiguous band
            assert len(idx) == 0 or int(idx[-1] - idx[0]) + 1 == len(idx)
        assert int((y == 0).sum()) == 40 * len(zero_rows) + 100 * len(zero_cols) - len(zero_rows) * len(zero_cols)
    assert torch.equal(x, torch.ones(100, 40))  # the input is not changed
    same = [spec_augment(x, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(*same)
