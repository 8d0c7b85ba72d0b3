"""The view server's endpoints against each task's tiny trained fixture run: what the page gets is what the
model computes (the states against stepping the cells one by one, the generated text against the task's own
commands), and bad input gets one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnkit.cli import main as rnnkit
from rnnkit.tasks.runner import load
from rnnkit.tasks.translate.detok import detokenize
from rnnkit.view.states import stepped

from viewserver import FIXTURES, TASKS, view  # noqa: F401 (the fixture)

RUN = {t: i for i, t in enumerate(TASKS)}
LM_TEXT = "the cat sat on the mat.\nthe dog sat on the box.\nthe owl hid.\n"


def heat_values(view, run, key, kind):
    """The heat-map bytes of ``kind`` back as floats, ``(units, T)``, with the server's scales."""
    code, headers, body = view.request(f"/api/runs/{run}/cells/{key}/heat?kind={kind}")
    assert code == 200
    scales = json.loads(headers["x-scales"])
    T = int(headers["x-tokens"])
    q = (np.frombuffer(body, dtype=np.uint8).astype(np.float64) - 128) / 127
    q = q.reshape(-1, T)
    units = q.shape[0] // len(scales)
    return q * np.repeat(scales, units)[:, None], scales


def test_runs_lists_every_task_and_its_views(view):
    runs = view.json("/api/runs")["runs"]
    assert [r["task"] for r in runs] == TASKS
    views = {r["task"]: r["views"] for r in runs}
    assert views["lm"] == ["runs", "cells", "generate"]
    assert views["translate"] == ["runs", "cells", "generate", "alignments"]
    assert views["caption"] == ["runs", "generate", "alignments"] and views["speech"] == ["runs", "alignments"]
    assert views["forecast"] == ["runs"]


def test_cells_states_are_the_cells_stepped_one_by_one(view, one_thread):
    got = view.json(f"/api/runs/{RUN['lm']}/cells", {"text": LM_TEXT})
    assert got["tokens"] == list(LM_TEXT) and got["kinds"] == ["h", "c", "i", "f", "g", "o"]
    run = load(FIXTURES / "lm" / "run")
    ids = run.vocabs["vocab"].encode(LM_TEXT)
    with torch.no_grad():
        x = run.model.encode(torch.tensor([ids]))[0]
    expected = stepped(run.model.rnn.layers[0].cell, x)  # the readable loop: cell(x_t, state), step by step
    for kind in ("h", "c"):
        values, scales = heat_values(view, RUN["lm"], got["id"], kind)
        assert values.shape == (12, len(LM_TEXT))
        assert np.abs(values - expected[kind].T).max() <= scales[0] / 127 / 2 + 1e-6  # within the 8-bit step


def test_rank_and_match_follow_their_definitions(view, one_thread):
    got = view.json(f"/api/runs/{RUN['lm']}/cells", {"text": LM_TEXT})
    key = got["id"]
    ranked = view.json(f"/api/runs/{RUN['lm']}/cells/{key}/rank?property=line-position&kind=c")["units"]
    values, _ = heat_values(view, RUN["lm"], key, "c")
    position = np.concatenate([np.arange(len(line) + 1) for line in LM_TEXT.split("\n")[:-1]])  # the newline ends its line
    assert len(position) == len(LM_TEXT)
    r = [np.corrcoef(values[u], position)[0, 1] for u in range(values.shape[0])]
    assert [u["unit"] for u in ranked[:3]] == list(np.argsort(-np.abs(r), kind="stable")[:3])
    assert abs(ranked[0]["r"] - r[ranked[0]["unit"]]) < 0.02  # 8-bit heat values against the exact ones
    h, _ = heat_values(view, RUN["lm"], key, "h")
    start, end = 4, 7  # "cat"
    threshold = float(np.quantile(h[:, start:end].min(1), 0.5))
    found = view.json(f"/api/runs/{RUN['lm']}/cells/{key}/match?start={start}&end={end}&threshold={threshold}&kind=h")
    for u in found["rows"]:
        assert (h[u, start:end] > threshold - 0.01).all()
        assert h[u, start - 1] <= threshold + 0.01 and h[u, end] <= threshold + 0.01
    for m in found["matches"]:
        assert (h[np.ix_(found["rows"], range(m["start"], m["end"]))] > threshold - 0.01).all()
        assert m["match"] == LM_TEXT[m["start"]:m["end"]]


@pytest.mark.parametrize("task,text", [("classify", "a fine movie"), ("tag", "John lives in Paris"),
                                       ("translate", "the big dog eats")])
def test_cells_of_every_model_that_reads_text(view, task, text):
    got = view.json(f"/api/runs/{RUN[task]}/cells", {"text": text})
    assert len(got["tokens"]) == len(text.split())
    bidirectional = {"classify": False, "tag": True, "translate": True}[task]
    assert [p["direction"] for p in got["layout"]] == (["fwd", "bwd"] if bidirectional else ["fwd"])
    values, _ = heat_values(view, RUN[task], got["id"], "h")
    assert values.shape == (12 * (2 if bidirectional else 1), len(got["tokens"])) and np.abs(values).max() > 0


def generated(view, task, body):
    events = view.lines(f"/api/runs/{RUN[task]}/generate", body)
    assert events[-1]["type"] == "end"
    return events[:-1], events[-1]


def test_generate_greedy_and_beam_match_rnnkit_sample(view, capsys, one_thread):
    run = str(FIXTURES / "lm" / "run")
    for options, flags in (({"decoder": "greedy", "length": 30}, ["--temperature", "0"]),
                           ({"decoder": "beam", "beam": 3, "length": 30}, ["--beam", "3"])):
        tokens, end = generated(view, "lm", {"text": "the ", "options": options})
        assert rnnkit(["sample", "--checkpoint", run, "--prime", "the ", "--length", "30", *flags]) == 0
        assert "the " + "".join(t["text"] for t in tokens) == capsys.readouterr().out.rstrip("\n")
        assert abs(sum(np.log(t["p"]) for t in tokens) - end["log_prob"]) < 1e-3  # the probabilities shown are the model's
        if options["decoder"] == "greedy":
            assert all(t["alternatives"][0][0] == t["text"] for t in tokens)  # greedy took the most probable


def test_sampling_is_seeded_and_its_knobs_change_it(view):
    body = {"text": "the ", "options": {"decoder": "sample", "length": 40, "seed": 7, "temperature": 1.0}}
    first, _ = generated(view, "lm", body)
    again, _ = generated(view, "lm", body)
    assert [t["id"] for t in first] == [t["id"] for t in again]
    cold, _ = generated(view, "lm", {**body, "options": {**body["options"], "top_k": 1}})  # only the most probable
    greedy, _ = generated(view, "lm", {"text": "the ", "options": {"decoder": "greedy", "length": 40}})
    assert [t["id"] for t in cold] == [t["id"] for t in greedy] != [t["id"] for t in first]


def test_translate_generate_and_attention_match_the_translate_command(view, capsys):
    run = str(FIXTURES / "translate" / "run")
    tokens, _ = generated(view, "translate", {"text": "the big dog eats", "options": {"decoder": "greedy"}})
    assert rnnkit(["translate", "translate", "--checkpoint", run, "--decoder", "greedy", "the big dog eats"]) == 0
    words = [t["text"] for t in tokens]
    shown = detokenize(words[:-1] if words[-1] == "</s>" else words, "the big dog eats")  # as the command prints it
    assert shown == capsys.readouterr().out.strip()
    got = view.json(f"/api/runs/{RUN['translate']}/alignments", {"text": "the big dog eats"})
    assert rnnkit(["translate", "translate", "--checkpoint", run, "--decoder", "beam", "the big dog eats"]) == 0
    assert detokenize([w for w in got["target"] if w != "</s>"], "the big dog eats") == capsys.readouterr().out.strip()
    alpha = np.array(got["attention"])
    assert alpha.shape == (len(got["target"]), 4) and np.allclose(alpha.sum(1), 1, atol=1e-5)


def test_tag_marginals(view, capsys):
    got = view.json(f"/api/runs/{RUN['tag']}/alignments", {"text": "the dog sat"})
    m = np.array(got["marginals"])
    assert m.shape == (3, len(got["tags"])) and np.allclose(m.sum(1), 1, atol=1e-5)
    assert got["predicted"] == [got["tags"][k] for k in m.argmax(1)]  # a softmax tagger: the argmax
    assert rnnkit(["tag", "predict", "--checkpoint", str(FIXTURES / "tag" / "run"), "the dog sat"]) == 0
    assert capsys.readouterr().out.split() == [f"{w}/{t}" for w, t in zip(got["words"], got["predicted"])]


def test_caption_upload_generate_and_attention(view, capsys):
    image = FIXTURES / "data" / "caption" / "img" / "red0.png"
    key = view.json(f"/api/runs/{RUN['caption']}/image", image.read_bytes(), content_type="image/png")["image"]
    tokens, _ = generated(view, "caption", {"image": key, "options": {"decoder": "greedy"}})
    assert rnnkit(["caption", "describe", "--checkpoint", str(FIXTURES / "caption" / "run"), "--decoder", "greedy",
                   str(image)]) == 0
    words = [t["text"] for t in tokens if t["text"] != "</s>"]
    assert capsys.readouterr().out.strip() == f"{image}: {' '.join(words)}"
    got = view.json(f"/api/runs/{RUN['caption']}/alignments", {"image": key})
    alpha = np.array(got["attention"])
    assert alpha.shape == (len(got["words"]), got["grid"][0] * got["grid"][1]) and np.allclose(alpha.sum(1), 1, atol=1e-5)


def test_speech_alignment_matches_transcribe(view, capsys):
    wav = sorted((FIXTURES / "data" / "speech" / "recordings").glob("*.wav"))[0]
    got = view.json(f"/api/runs/{RUN['speech']}/alignments", wav.read_bytes(), content_type="audio/wav")
    assert rnnkit(["speech", "transcribe", "--checkpoint", str(FIXTURES / "speech" / "run"), str(wav)]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "".join(map(str, got["digits"]))
    assert len(got["features"]) > 0 and len(got["features"][0]) > 10  # (features, frames)


@pytest.mark.parametrize("path,body,expected", [
    ("/api/runs/0/cells", {"text": ""}, "the text is empty"),
    ("/api/runs/0/cells", {"text": "ZZZ"}, "outside the model's vocabulary"),
    ("/api/runs/0/cells", {"text": "a" * (10 * 1024 * 1024)}, "the limit is 2 MB"),
    ("/api/runs/0/generate", {"text": "the", "options": {"temperature": -1}}, r"temperature must be in \[0.0, 100.0\]"),
    ("/api/runs/0/generate", {"text": "the", "options": {"decoder": "beams"}}, "unknown decoder 'beams'"),
    ("/api/runs/6/cells", {"text": "1 2 3"}, "a forecast model reads no text"),
    ("/api/runs/9/cells", {"text": "the"}, "no run 9: the view was given 7 run"),
    ("/api/runs/4/image", b"not an image", "not an image that can be read"),
    ("/api/runs/5/alignments", b"RIFF not a wav", "not a WAV file"),
])
def test_bad_input_gets_one_line(view, path, body, expected):
    import re

    ctype = "application/json" if isinstance(body, dict) else "application/octet-stream"
    error = view.json(path, body, status=400, content_type=ctype)["error"]
    assert re.search(expected, error) and "\n" not in error and "/tmp" not in error, error
