"""Every command's parser is built from the task declarations without importing torch (``rnnkit scratch``
runs where torch is absent), and every task has its generated ``train`` and ``eval`` commands."""

import subprocess
import sys


def test_building_every_parser_does_not_import_torch():
    code = ("import sys\nfrom rnnkit.cli import build_parser\nbuild_parser()\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_task_has_train_and_eval():
    from rnnkit.cli import TASK_COMMANDS, build_parser

    parser = build_parser()
    for name in TASK_COMMANDS:
        for verb in ("train", "eval"):
            argv = ([verb] if name == "lm" else [name, verb]) + ["--help"]
            try:
                parser.parse_args(argv)
            except SystemExit as e:
                assert e.code == 0, argv
