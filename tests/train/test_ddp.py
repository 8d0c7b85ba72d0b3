"""Data-parallel training under torchrun (gloo, 2 processes on this CPU): each rank's share of a batch,
one-line errors (batch size, --out, a rank that never joins), 2 ranks == 1 process for the char-LM and
the classifier, kill -9 of a worker + elastic restart == an uninterrupted run, two "nodes" on loopback.

Tolerances: 2 ranks average two half-batch gradients where one process sums the whole batch, so the
float32 sums run in another order; after tens of Adam steps the weights agree to ~1e-6 (atol 2e-5
below). A restarted run redoes the same steps from an exact checkpoint with the same 2-rank
reductions, so its weights are bit-identical to the uninterrupted 2-rank run's.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import ROOT, one_line_error, run_cli
from rnnkit.cli import main
from rnnkit.train import distributed

LM = ["--hidden", "32", "--layers", "1", "--embedding", "16", "--seq-len", "16", "--batch-size", "4",
      "--eval-every", "50", "--eval-windows", "4", "--eval-window", "32", "--sample-every", "0", "--warmup", "5",
      "--device", "cpu", "--threads", "1", "--log-every", "10"]
ATOL = 2e-5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**base, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **extra}


def torchrun(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *map(str, args)], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def finished(proc: subprocess.Popen, timeout=300) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out


def weights(run: Path, name="checkpoint") -> dict:
    return load_file(str(run / name / "model.safetensors"))


def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


# ------------------------------------------------------------------ in-process: shares and errors
@pytest.mark.parametrize("m", [8, 7, 1])
def test_shares_weight_the_batch_mean(monkeypatch, m):
    """Rank r's rows, weighted by w_r = W m_r / m, average (as DDP does) to the whole batch's mean."""
    x, y = torch.arange(m * 3.0).view(m, 3), torch.arange(m * 1.0)
    losses, rows = [], []
    for r in range(2):
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", str(r))
        (xi, li), yi, reset, w = distributed.share((x, torch.full((m,), 3)), y, torch.zeros(m, dtype=torch.bool))
        assert xi.shape[0] == yi.shape[0] == li.shape[0] == reset.shape[0] >= 1  # an empty share keeps 1 row at weight 0
        losses.append(w * float(yi.mean()))
        rows.append(yi if w else yi[:0])
    assert torch.equal(torch.cat(rows), y)  # the ranks own disjoint rows, in order
    assert sum(losses) / 2 == pytest.approx(float(y.mean()))


def test_a_task_may_split_its_own_batches(monkeypatch):
    """Batches that are not batch-first (captions per image) go through the data's own ``share``."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    images, captions = torch.zeros(2, 3), torch.arange(5)  # 2 images, 5 captions
    with pytest.raises(Exception, match="batch-first tensors or a share"):
        distributed.share((images, captions), captions, True)
    mine = lambda x, y, rank, size: ((x[0][rank:rank + 1], y[2:]), y[2:], 2 * 3 / 5)
    assert distributed.share((images, captions), captions, True, mine)[3] == pytest.approx(1.2)


def test_word_weighted_shares_of_translate_and_caption():
    """Translation and captioning losses are means over target words: their shares are weighted by
    word counts, so the ranks' weighted means average to the batch's word mean exactly."""
    from rnnkit.tasks.caption.data import CaptionedImages
    from rnnkit.tasks.translate.data import EncodedPairs

    g = torch.Generator().manual_seed(0)
    tgt = torch.randint(1, 9, (5, 6), generator=g) * (torch.rand(5, 6, generator=g) > 0.4)  # (N, T), 0 = padding
    word_mean = lambda t: float(t.float().sum() / (t != 0).sum())  # a stand-in loss: mean over real words
    src = (torch.zeros(5, 3), torch.ones(5), tgt)
    parts = [EncodedPairs.share(None, src, tgt, r, 2) for r in range(2)]
    assert sum(w * word_mean(t) for _, t, w in parts) / 2 == pytest.approx(word_mean(tgt))
    owner = torch.tensor([0, 0, 1, 2, 2])  # 5 captions of 3 images
    parts = [CaptionedImages.share(None, (tgt, torch.zeros(3, 4, 4, 3), owner), tgt, r, 2) for r in range(2)]
    assert sum(w * word_mean(t) for _, t, w in parts) / 2 == pytest.approx(word_mean(tgt))
    assert [p[0][2].tolist() for p in parts] == [[0, 0], [0, 1, 1]]  # owners renumbered within each rank


def test_token_weighted_share_of_tag():
    """The tagger's loss is a mean over tokens; its character table of distinct words stays whole."""
    from rnnkit.tasks.tag.data import Encoded

    lengths = torch.tensor([4, 1, 3])
    tags = torch.arange(12).view(3, 4) * (torch.arange(4) < lengths[:, None])  # (b, T), 0 beyond each length
    token_mean = lambda t, n: float(t.sum() / n.sum())
    chars = torch.zeros(7, 5)
    inputs = (tags, lengths, chars, torch.ones(7), tags, tags)  # words, lengths, chars, char lengths, slots, shapes
    parts = [Encoded.share(None, inputs, tags, r, 2) for r in range(2)]
    assert sum(w * token_mean(t, x[1]) for x, t, w in parts) / 2 == pytest.approx(token_mean(tags, lengths))
    assert all(x[2] is chars for x, _, _ in parts)


def test_one_process_is_untouched(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    x = torch.ones(5, 2)
    assert distributed.share(x, x, True) == (x, x, True, 1.0)
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap(model, torch.device("cpu")) is model and distributed.gather_rank_tensors({"a": x}) == {}


def test_batch_must_divide(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit):  # rank 1 leaves quietly ...
        distributed.check_batch(5)
    monkeypatch.setenv("RANK", "0")  # ... rank 0 says it in one line
    with pytest.raises(Exception, match=r"--batch-size 5 is the global batch and must divide evenly across 2 ranks"):
        distributed.check_batch(5)
    monkeypatch.setattr(sys, "argv", ["rnnkit", "train", "--nproc", "3", "--batch-size", "4"])
    monkeypatch.delenv("WORLD_SIZE")
    assert main(["train", "--nproc", "3", "--batch-size", "4"]) == 2
    one_line_error(capsys, r"--batch-size 4 is the global batch and must divide evenly across 3 processes")


def test_torchrun_needs_out_and_restarts_resume(monkeypatch, capsys, tmp_path):
    from rnnkit.train.launch import prepare_worker

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert main(["train", "--steps", "1"]) == 2
    one_line_error(capsys, r"under torchrun, give --out DIR")
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "config.json").write_text("{}")
    args = type("Args", (), {"out": str(tmp_path)})()
    prepare_worker(args)
    assert not hasattr(args, "resume")  # the first attempt: a run folder with a checkpoint is refused as usual
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "1")
    prepare_worker(args)
    assert args.resume is True  # after an elastic restart it is resumed


@pytest.mark.slow
def test_a_rank_that_never_joins_is_one_line(tmp_path, periodic_corpus):
    """Rank 0 of 2 alone: after RNNKIT_JOIN_TIMEOUT seconds, one line, exit code 2, no hang."""
    port = free_port()
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "rnnkit", "train", "--corpus", periodic_corpus, "--steps", "2",
                        "--out", tmp_path / "run", *LM], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env=env(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                               MASTER_PORT=str(port), RNNKIT_JOIN_TIMEOUT="2"))
    assert p.returncode == 2, p.stderr
    errors = [l for l in p.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "only 1 of 2 ranks joined within 2 s" in errors[0], p.stderr
    assert "Traceback" not in p.stderr and time.monotonic() - start < 100


# ------------------------------------------------------------------ 2 processes (slow: each start imports torch)
@pytest.fixture(scope="module")
def lm_runs(tmp_path_factory):
    """The same 150-step char-LM run in one process and on 2 ranks (``rnnkit train --nproc 2``)."""
    root = tmp_path_factory.mktemp("lm")
    corpus = root / "corpus.txt"
    corpus.write_text("the cat sat on the mat.\n" * 200)
    args = ["train", "--corpus", corpus, "--steps", "150", "--checkpoint-every", "25", *LM]
    one = run_cli(*args, "--out", root / "one")
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "rnnkit", *map(str, args), "--out", root / "two", "--nproc", "2"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT, env=env())
    assert two.returncode == 0, two.stderr[-3000:]
    return {"root": root, "corpus": corpus, "args": args, "one": root / "one", "two": root / "two", "log": two}


@pytest.mark.slow
def test_lm_two_ranks_equal_one_process(lm_runs):
    one, two = lm_runs["one"], lm_runs["two"]
    d = max_diff(weights(one), weights(two))
    print(f"char-LM, 150 steps: max |w_1proc - w_2ranks| = {d:.2e}")
    assert d < ATOL
    t1, t2 = (load_file(str(r / "checkpoint" / "trainer.safetensors")) for r in (one, two))
    states = [k for k in t1 if k.startswith("state.")]
    assert states and all(t1[k].shape == t2[k].shape for k in states)  # the carried state of all B streams
    assert max(float((t1[k] - t2[k]).abs().max()) for k in states) < ATOL
    assert "rank1.rng.torch" in t2 and "rank1.rng.torch" not in t1  # rank 1's RNG, in the same safetensors file
    assert lm_runs["log"].stdout.count("corpus:") == 1  # rank 0 alone prints
    assert not list(lm_runs["two"].glob("*.tmp"))
    assert Path(os.devnull).is_char_device()  # ranks > 0 write no file, not even through os.devnull


@pytest.mark.slow
def test_kill_a_worker_and_the_group_restarts_exactly(lm_runs):
    """kill -9 of rank 1 after a checkpoint: torchrun restarts both ranks, they resume from the last
    checkpoint and finish with the uninterrupted run's weights, bit for bit."""
    out = lm_runs["root"] / "killed"
    proc = torchrun("--standalone", "--nproc-per-node", 2, "--max-restarts", 1, "-m", "rnnkit",
                    *lm_runs["args"], "--out", out)
    deadline = time.monotonic() + 240
    while not (out / "checkpoint" / "config.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint before the run ended"
        time.sleep(0.02)
    victim = next(pid for pid in child_pids(proc.pid) if b"RANK=1\0" in Path(f"/proc/{pid}/environ").read_bytes())
    os.kill(victim, signal.SIGKILL)
    log = finished(proc)
    assert re.search(r"torchrun restart 1: resuming .* from its last checkpoint", log), log[-3000:]
    assert max_diff(weights(out), weights(lm_runs["two"])) == 0.0


def child_pids(parent: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.slow
def test_two_nodes_on_loopback(lm_runs):
    """Two torchrun agents (--nnodes 2, one process each) meet at a c10d rendezvous and train together."""
    out, port = lm_runs["root"] / "nodes", free_port()
    args = [*lm_runs["args"][:lm_runs["args"].index("--steps") + 1], "20",
            *lm_runs["args"][lm_runs["args"].index("--steps") + 2 :], "--out", out]
    nodes = [torchrun("--nnodes", 2, "--node-rank", k, "--nproc-per-node", 1, "--rdzv-backend", "c10d",
                      "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "loopback", "-m", "rnnkit", *args)
             for k in (0, 1)]
    logs = [finished(n) for n in nodes]
    assert sum("done (steps) at step 20" in log for log in logs) == 1  # rank 0 alone reports
    assert weights(out)["head.weight"].isfinite().all()


@pytest.fixture(scope="module")
def sentiment_file(tmp_path_factory):
    rows = [("a good film", 1), ("great acting , good plot", 1), ("simply great", 1), ("the plot is good", 1),
            ("a bad film", 0), ("awful acting , bad plot", 0), ("simply awful", 0), ("the plot is bad", 0)]
    path = tmp_path_factory.mktemp("classify") / "train.tsv"
    path.write_text("sentence\tlabel\n" + "".join(f"{t} \t{l}\n" for t, l in (rows * 9)[:71]))  # 57 train, 14 val
    return path


@pytest.mark.slow
def test_classifier_two_ranks_equal_one_process(sentiment_file):
    """57 training texts in batches of 8: each epoch ends with a batch of 1, which one rank owns at weight 1
    while the other keeps a row at weight 0, and still the 2-rank run follows the one-process run."""
    root = sentiment_file.parent
    args = ["classify", "train", "--train", sentiment_file, "--epochs", "3", "--batch-size", "8", "--hidden", "16",
            "--embedding", "8", "--patience", "0", "--threads", "1", "--device", "cpu"]
    one = run_cli(*args, "--out", root / "one")
    assert one.returncode == 0, one.stderr
    two = finished(torchrun("--standalone", "--nproc-per-node", 2, "-m", "rnnkit", *args, "--out", root / "two"))
    d, best = max_diff(weights(root / "one"), weights(root / "two")), max_diff(*(weights(root / r, "best") for r in ("one", "two")))
    print(f"classifier, 3 epochs: max |w_1proc - w_2ranks| = {d:.2e} (best/: {best:.2e})")
    assert d < ATOL and best < ATOL
    assert two.count("done (steps)") == 1
