"""The runtime written into an exported folder (``DIR/runtime.py``, a copy of ``rnnkit.onnx_runtime``) runs where
importing torch fails and rnnkit is not importable: a subprocess whose prelude sets ``sys.modules['torch'] =
None`` and drops rnnkit from the path; its answers equal the ones computed here with torch."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("onnxruntime")

from rnnkit import onnx_runtime as rt  # noqa: E402
from rnnkit.export import export  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
PRELUDE = ("import sys\nsys.modules['torch'] = None\nsys.modules['rnnkit'] = None\n"
           "sys.path.insert(0, sys.argv[1])\nimport json, runtime\nassert 'torch' not in [m for m in sys.modules if sys.modules[m]]\n")


def run_without_torch(folder, body: str):
    r = subprocess.run([sys.executable, "-c", PRELUDE + body, str(folder)], capture_output=True, text=True, timeout=120,
                       cwd=folder)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_generate_classify_and_tag_without_torch(tmp_path):
    folders = {}
    for task in ("lm", "classify", "tag"):
        folders[task] = tmp_path / task
        export(FIXTURES / task / "run", folders[task], check=False)
    got = run_without_torch(folders["lm"], "print(json.dumps(runtime.generate('.', 'the ', 30, temperature=0)))")
    assert got == rt.generate(folders["lm"], "the ", 30, temperature=0)
    texts = ["the acting was great", "bad plot"]
    got = run_without_torch(folders["classify"], f"print(json.dumps(runtime.classify('.', {texts!r})))")
    assert [g[0] for g in got] == [label for label, _ in rt.classify(folders["classify"], texts)]
    sentences = [["the", "dog", "eats"]]
    got = run_without_torch(folders["tag"], f"print(json.dumps(runtime.tag('.', {sentences!r})))")
    assert got == rt.tag(folders["tag"], sentences)


def test_the_runtime_module_imports_no_torch():
    code = "import sys\nsys.modules['torch'] = None\nimport rnnkit.onnx_runtime\nprint('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
