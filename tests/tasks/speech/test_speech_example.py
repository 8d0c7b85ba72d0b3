"""``rnnkit speech example DIGITS --out FILE`` writes a recording that ``speech transcribe`` reads, so the
README's transcribe line runs as written: one speaker's test takes of the digits given, in order, joined by
silences (its length is the takes' plus the silences'); bad digits and an unknown speaker are one line each.
"""

import wave

import pytest

from conftest import ROOT, run_cli

DATA = ROOT / "tests" / "fixtures" / "data" / "speech"
RUN = ROOT / "tests" / "fixtures" / "speech" / "run"


def frames(path) -> int:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        return w.getnframes()


@pytest.mark.slow
def test_example_writes_a_recording_that_transcribe_reads(tmp_path):
    out = tmp_path / "digits.wav"
    r = run_cli("speech", "example", "010", "--data", DATA, "--out", out)
    assert r.returncode == 0, r.stderr
    speaker = r.stdout.split(": ", 1)[1].split()[0]
    takes = [min(DATA.glob(f"recordings/{d}_{speaker}_[0-4].wav")) for d in "01"]
    assert frames(out) == frames(takes[0]) * 2 + frames(takes[1]) + 4 * 1200  # 0, 1, 0 and four 0.15 s silences
    t = run_cli("speech", "transcribe", "--checkpoint", RUN, out, "--threads", "1")
    assert t.returncode == 0 and t.stdout.strip().endswith(str(out)), t.stderr
    for bad, message in ((["4x1"], "the digits to say must be 0-9 only"), (["1", "--speaker", "nobody"], "unknown speaker")):
        e = run_cli("speech", "example", *bad, "--data", DATA, "--out", out)
        assert e.returncode == 2 and e.stderr.strip().startswith(f"error: {message}"), e.stderr
