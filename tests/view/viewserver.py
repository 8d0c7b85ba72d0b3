"""Helpers of tests/view: a view server over the fixtures' tiny trained runs (tests/fixtures/<task>/run, read only), started as a
user starts it: ``rnnkit view RUN ... --port 0`` in a subprocess, its URL read from what it prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="rnnkit view needs its extra: pip install -e '.[view]'")
pytest.importorskip("uvicorn", reason="rnnkit view needs its extra: pip install -e '.[view]'")

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TASKS = ["lm", "classify", "tag", "translate", "caption", "speech", "forecast"]  # run i is TASKS[i]


def start_view(runs, *flags, timeout=60):
    """``rnnkit view`` in a subprocess: ``(process, url)`` once it prints its URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rnnkit.cli", "view", *map(str, runs), "--port", "0",
                             "--threads", "1", *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    deadline, seen = time.time() + timeout, []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"(http://\S+/)", line)
        if found:
            proc.printed = "".join(seen)  # what it printed up to its URL
            return proc, found.group(1)
    proc.kill()
    raise AssertionError("rnnkit view did not print its URL:\n" + "".join(seen))


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class Client:
    """JSON over HTTP to one server (urllib: nothing beyond the standard library)."""

    def __init__(self, url):
        self.url = url

    def request(self, path, data=None, content_type="application/json"):
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        req = urllib.request.Request(self.url + path.lstrip("/"), data=data,
                                     headers={"content-type": content_type} if data is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, data=None, status=200, **kwargs):
        code, _, body = self.request(path, data, **kwargs)
        assert code == status, (code, body[:500])
        return json.loads(body)

    def lines(self, path, data):
        code, _, body = self.request(path, data)
        assert code == 200, (code, body[:500])
        return [json.loads(line) for line in body.decode().splitlines()]


@pytest.fixture(scope="module")
def view():
    """One server over every task's fixture run: a ``Client``."""
    proc, url = start_view([FIXTURES / t / "run" for t in TASKS])
    yield Client(url)
    stop(proc)
