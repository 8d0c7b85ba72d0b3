"""Generated bad-input test: every command of the parser, every numeric flag, bad values built from the
flag's declared range (``rnnkit.schema.Spec``) -> exit code 2, one ``error:`` line naming the flag and
the value, no traceback. Commands are enumerated from ``rnnkit.cli.build_parser()``, so a command added
later is covered as soon as it is registered; a numeric flag without a declared range fails here.
"""

from __future__ import annotations

import argparse
import math

import pytest

from rnnkit.cli import build_parser, main
from rnnkit.cli_args import count, fraction, number, positive_int
from rnnkit.schema import Spec, check_config
from rnnkit.errors import RnnkitError

from conftest import run_cli


def leaf_commands(parser, path=()):
    """``(path, parser)`` for every command that runs something (``rnnkit classify train`` ...)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_commands(child, (*path, name))


PARSER = build_parser()
COMMANDS = list(leaf_commands(PARSER))
NUMERIC = [(path, action) for path, p in COMMANDS for action in p._actions
           if action.option_strings and (action.type in (int, float) or hasattr(action.type, "spec"))]


def bad_values(spec: Spec) -> list[str]:
    """Out-of-range, NaN, inf, zero and negative values that ``spec`` must refuse, and a word."""
    if spec.choices is not None:
        return ["no-such-name"]
    kind = spec.kind
    values = {"abc", "nan", "inf", "-inf", *(["1.5"] if kind is int else [])}
    if spec.low is not None:
        values.add(str(kind(spec.low - 1)))
    if spec.above is not None:
        values.update({str(kind(spec.above)), str(kind(spec.above - 1))})
    if spec.high is not None:
        values.add(str(kind(spec.high + 1)))
    if spec.below is not None:
        values.add(str(kind(spec.below)))
    values.update(v for v in ("0", "-1") if spec.problem(kind(v)) is not None)  # zero, negative
    return sorted(v for v in values if not (spec.allow_zero and v in ("0", "0.0")))


def test_the_parser_has_the_commands():
    names = {" ".join(path) for path, _ in COMMANDS}
    for expected in ("train", "sample", "eval", "inspect", "classify train", "forecast predict",
                     "translate translate", "lab esn", "scratch train"):
        assert expected in names
    assert len(NUMERIC) > 100


BY_COMMAND = {}
for _path, _action in NUMERIC:
    BY_COMMAND.setdefault(_path, []).append(_action)
IDS = [" ".join(path) for path in BY_COMMAND]


@pytest.mark.parametrize("path", list(BY_COMMAND), ids=IDS)
def test_every_numeric_flag_declares_its_range(path):
    for action in BY_COMMAND[path]:
        spec = getattr(action.type, "spec", None)
        flag = action.option_strings[-1]
        assert spec is not None, f"rnnkit {' '.join(path)} {flag}: use a typed helper of rnnkit.cli_args (positive_int, ...) or opt(..., low=...)"
        if spec.kind is int and spec.choices is None:
            bounds = (spec.low, spec.high, spec.above, spec.below)
            assert any(b is not None for b in bounds), f"rnnkit {' '.join(path)} {flag}: an integer flag needs a range"


@pytest.mark.parametrize("path", list(BY_COMMAND), ids=IDS)
def test_bad_numbers_give_exit_2_and_one_line(path, capsys):
    for action in BY_COMMAND[path]:
        spec = getattr(action.type, "spec", None) or Spec(kind=action.type)
        flag = action.option_strings[-1]
        for value in bad_values(spec):
            with pytest.raises(SystemExit) as e:
                PARSER.parse_args([*path, f"{flag}={value}"])
            err = capsys.readouterr().err
            assert e.value.code == 2, (path, flag, value)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), err
            assert flag in lines[0] and repr(value) in lines[0] and "must be" in lines[0], err
            assert "Traceback" not in err and "_" not in lines[0].split(" must be")[0], err  # no Python field names


@pytest.mark.parametrize("path", list(BY_COMMAND), ids=IDS)
def test_the_default_and_the_documented_limits_are_accepted(path):
    for action in BY_COMMAND[path]:
        spec = getattr(action.type, "spec", None)
        if spec is None or spec.choices is not None:
            continue
        for limit in (spec.low, spec.high):
            if limit is not None:
                assert spec.problem(spec.kind(limit)) is None
        if spec.allow_zero:
            assert spec.problem(spec.kind(0)) is None
        if action.default not in (None, argparse.SUPPRESS):
            assert spec.problem(action.default) is None, (path, action.option_strings, action.default)


OUTPUT_FLAGS = {"--json", "--plot", "--figure", "--attention", "--html"}


def test_every_output_file_flag_checks_its_folder():
    """Files written at the end of a command are checked while parsing (rnnkit.cli_args.output_file)."""
    from rnnkit.cli_args import output_file

    def is_path(a):  # translate train's --attention is a name (bahdanau, luong), not a file
        return OUTPUT_FLAGS & set(a.option_strings) and not hasattr(a.type, "spec")

    found = [(path, a.option_strings[-1]) for path, p in COMMANDS for a in p._actions if is_path(a)]
    assert len(found) >= 8
    for path, p in COMMANDS:
        for a in p._actions:
            if is_path(a):
                assert a.type is output_file, f"rnnkit {' '.join(path)} {a.option_strings[-1]}: use type=output_file"


def test_config_defaults_are_valid():
    """Every config dataclass behind a command accepts its own defaults (and its presets)."""
    from rnnkit.models.classifier_config import ClassifierConfig
    from rnnkit.tasks.classify.config import PRESETS, ClassifyDataConfig, ClassifyTrainFlags
    from rnnkit.models.language_model_config import LMConfig
    from rnnkit.train.config import TrainConfig

    for cls in (LMConfig, TrainConfig):
        check_config(cls, {}, "defaults")
    for key, cls in (("model", ClassifierConfig), ("data", ClassifyDataConfig), ("train", ClassifyTrainFlags)):
        check_config(cls, PRESETS["course"][key], "preset course")


@pytest.mark.parametrize("helper, good, bad", [
    (positive_int, ["1", "7"], ["0", "-3", "x", "1e3"]),
    (count, ["0", "5"], ["-1"]),
    (fraction, ["1", "0.5", "1e-9"], ["0", "1.01", "nan", "inf", "-0.1"]),
    (number(float), ["-3.5", "1e300"], ["nan", "inf", "-inf", "1e999"]),
])
def test_typed_helpers(helper, good, bad):
    for text in good:
        helper(text)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match="must be"):
            helper(text)


def test_main_returns_2_and_a_fresh_process_prints_one_line(capsys):
    assert main(["train", "--batch-size", "0"]) == 2
    assert capsys.readouterr().err == "error: --batch-size must be an integer >= 1, got '0' (see rnnkit train --help)\n"
    for argv in (["eval", "--checkpoint", "x", "--windows", "-1"], ["lab", "esn", "--ridge", "nan"]):
        result = run_cli(*argv)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


def test_check_config_refuses_wrong_types_ranges_and_names():
    from rnnkit.models.language_model_config import LMConfig
    from rnnkit.tasks.forecast.config import ForecastDataConfig

    cases = [({"strategy": "magic"}, r"strategy must be one of: direct, recursive, got 'magic'"),
             ({"window": "24"}, r"window must be an integer, got '24'"),
             ({"window": 0}, r"window must be an integer >= 1, got 0"),
             ({"test_fraction": math.nan}, r"test_fraction must be a finite number in \(0, 1\)"),
             ({"log": 1}, r"log must be true or false")]
    for data, message in cases:
        with pytest.raises(RnnkitError, match=message):
            check_config(ForecastDataConfig, data, "config.json")
    with pytest.raises(RnnkitError, match="expected a JSON object of settings, got list"):
        check_config(LMConfig, [1, 2], "config.json")
    with pytest.raises(RnnkitError, match="cell must be one of: .*lstm"):
        check_config(LMConfig, {"cell": "lstn"}, "config.json")
    assert check_config(LMConfig, {"hidden": 8, "unknown_later_field": 1}, "x").rnn.hidden == 8


def test_configs_built_in_python_are_checked_against_their_declared_ranges():
    """A config made in Python skips argparse; training still refuses an out-of-range field in one line
    naming its flag (``schema.check_fields``, which every task's ``check_data_config`` calls), before
    reading any file."""
    from rnnkit.schema import check_fields
    from rnnkit.tasks.classify.config import ClassifyDataConfig
    from rnnkit.tasks.translate.config import TranslateDataConfig
    from rnnkit.tasks.forecast.config import ForecastDataConfig
    from rnnkit.models.tagger_config import TaggerConfig
    from rnnkit.tasks import runner
    from rnnkit.tasks.tag.config import TagDataConfig, TagTrainFlags

    configs = {"model": TaggerConfig(), "data": TagDataConfig(train="missing.conll", min_freq=0), "train": TagTrainFlags()}
    with pytest.raises(RnnkitError, match=r"^--min-freq must be an integer >= 1, got 0$"):
        runner.train(runner.get_task("tag"), configs)
    cases = [(ClassifyDataConfig(tokens="bytes"), r"--tokens must be one of: char, word, got 'bytes'"),
             (ForecastDataConfig(horizon=0), r"--horizon must be an integer >= 1, got 0"),
             (TranslateDataConfig(eval_bleu=-1), r"--eval-bleu must be an integer >= 0, got -1"),
             (TagDataConfig(case_augment=1.5), r"--case-augment must be a finite number in \[0, 1\], got 1.5")]
    for config, message in cases:
        with pytest.raises(RnnkitError, match=message):
            check_fields(config)
    check_fields(TagDataConfig())  # the defaults pass
