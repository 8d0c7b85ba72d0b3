"""How long the cells view of ``rnnkit view`` takes for 10,000 characters of a 2 x 256 LSTM char-LM on one
CPU thread: the request that reads the text (every layer's h through its engine) plus the heat-map bytes of h,
over HTTP to a real server, as the page asks for them; then c (its gates computed on that first request),
and the same text again (cached).

    python benchmarks/view_cells.py [--chars 10000 --hidden 256 --layers 2 --repeats 3]

The model is trained for one step (the timing does not depend on the weights) on Python's own argparse.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "view"))
from viewserver import start_view, stop  # noqa: E402


def timed(url, path, data=None):
    start = time.perf_counter()
    req = urllib.request.Request(url + path, data=data, headers={"content-type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=300) as r:
        body = r.read()
    return time.perf_counter() - start, body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chars", type=int, default=10_000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    source = Path(sysconfig.get_paths()["stdlib"], "argparse.py").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text(source)
        run = Path(tmp, "run")
        subprocess.run([sys.executable, "-m", "rnnkit.cli", "train", "--corpus", str(corpus), "--cell", "lstm", "--hidden",
                        str(args.hidden), "--layers", str(args.layers), "--steps", "1", "--batch-size", "2", "--seq-len",
                        "16", "--eval-windows", "1", "--eval-window", "16", "--sample-every", "0", "--threads", "1",
                        "--out", str(run)], check=True, capture_output=True)
        proc, url = start_view([run])
        try:
            rows = []
            for i in range(args.repeats):
                text = (source * 3)[i * 997: i * 997 + args.chars]  # a different text each time: nothing cached
                body = json.dumps({"text": text}).encode()
                t_read, got = timed(url, "api/runs/0/cells", body)
                key = json.loads(got)["id"]
                t_h, _ = timed(url, f"api/runs/0/cells/{key}/heat?kind=h")
                t_c, _ = timed(url, f"api/runs/0/cells/{key}/heat?kind=c")
                t_again, _ = timed(url, "api/runs/0/cells", body)
                rows.append((t_read + t_h, t_c, t_again))
        finally:
            stop(proc)
    shown, c, again = (statistics.median(r[k] for r in rows) for k in range(3))
    print(f"{args.chars:,} characters, {args.layers} x {args.hidden} LSTM, 1 thread, median of {args.repeats}:")
    print(f"  text read + heat-map of h: {shown:.2f} s   c (and the gates): {c:.2f} s   the same text again: {again:.3f} s")


if __name__ == "__main__":
    main()
