"""What an exported model's runtime needs besides its graphs, per task, as JSON for ``DIR/config.json``:
vocabularies, special ids, the preprocessing rnnkit applies (tokeniser, scaler, feature front end) and the
decoding defaults of rnnkit's own commands."""

from __future__ import annotations

from dataclasses import asdict


def settings(loaded) -> dict:
    return SETTINGS[loaded.task.checkpoint_task](loaded)


def lm(run) -> dict:
    layers = run.model.rnn.layers
    return {"vocab": "".join(run.vocabs["vocab"].chars), "layers": len(layers), "hidden": layers[0].cell.hidden_size,
            "state": ["h", "c"] if layers[0].cell.has_cell_state else ["h"],
            "decoding": {"length": 200, "temperature": 1.0, "top_k": 0, "top_p": 0.0}}


def classify(run) -> dict:
    d = run.configs["data"]
    return {"vocab": run.vocabs["vocab"].tokens, "classes": list(run.vocabs["classes"]), "tokens": d.tokens,
            "max_len": d.max_len, "pad_id": 0, "unk_id": 1}


def forecast(run) -> dict:
    d, m = run.configs["data"], run.configs["model"]
    return {"scaler": asdict(run.vocabs["scaler"]), "window": d.window, "horizon": d.horizon, "strategy": d.strategy,
            "residual": d.residual, "model": m.model, "mode": m.mode}


def tag(run) -> dict:
    from rnnkit.tasks.tag.shape import SHAPES

    d, model = run.configs["data"], run.model
    crf = None
    if model.crf is not None:
        trans, start, end = (t.detach().float().tolist() for t in model.crf.scores())
        crf = {"trans": trans, "start": start, "end": end}
    return {"words": run.vocabs["words"].tokens, "chars": run.vocabs["chars"].tokens, "tags": list(run.vocabs["tags"]),
            "lowercase": d.lowercase, "max_word": d.max_word, "uses_chars": model.chars is not None,
            "uses_shapes": model.shape is not None, "shapes": list(SHAPES), "crf": crf}


def decoder_state(stack) -> dict:
    cell = stack.layers[0].cell
    return {"layers": len(stack.layers), "hidden": cell.hidden_size, "state": ["h", "c"] if cell.has_cell_state else ["h"]}


def decode_defaults(max_output: int) -> dict:
    from rnnkit.decoding.options import DecodeOptions

    o = DecodeOptions()
    return {"decoder": o.decoder, "beam": o.beam, "length_penalty": o.length_penalty, "max_output": max_output}


def translate(run) -> dict:
    from rnnkit.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, UNK_ID

    d = run.configs["data"]
    return {"source_vocab": run.vocabs["source"].tokens, "target_vocab": run.vocabs["target"].tokens,
            "accents": d.accents, "ids": {"pad": PAD_ID, "unk": UNK_ID, "bos": BOS_ID, "eos": EOS_ID},
            "decoding": decode_defaults(2 * d.max_words + 2), **decoder_state(run.model.decoder)}


def caption(run) -> dict:
    from rnnkit.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, UNK_ID
    from rnnkit.tasks.caption.decode import DEFAULT_MAX_OUTPUT

    return {"vocab": run.vocabs["vocab"].tokens, "image_size": run.configs["data"].image_size,
            "ids": {"pad": PAD_ID, "unk": UNK_ID, "bos": BOS_ID, "eos": EOS_ID},
            "decoding": decode_defaults(DEFAULT_MAX_OUTPUT), **decoder_state(run.model.decoder)}


def speech(run) -> dict:
    from rnnkit.tasks.speech.data import feature_spec

    d = run.configs["data"]
    return {"speech_task": d.task, "classes": list(run.vocabs["classes"]), "features": asdict(feature_spec(d)),
            "blank": 0, "decoding": {"beam": 8}}


SETTINGS = {"char-lm": lm, "classify": classify, "forecast": forecast, "tag": tag, "translate": translate,
            "caption": caption, "speech": speech}

#: The README's example, per task.
USAGE = {
    "char-lm": 'model = runtime.load(".")\nprint(runtime.generate(model, "def ", length=200, temperature=0))  # greedy',
    "classify": 'model = runtime.load(".")\nprint(runtime.classify(model, ["a great film"]))  # [(label, probabilities)]',
    "forecast": 'model = runtime.load(".")\nprint(runtime.forecast(model, values))  # values: the series so far',
    "tag": 'model = runtime.load(".")\nprint(runtime.tag(model, [["the", "dog", "eats"]]))',
    "translate": 'model = runtime.load(".")\nprint(runtime.translate(model, ["the cat sees a dog ."], beam=5))',
    "caption": 'model = runtime.load(".")\nprint(runtime.caption(model, images))  # uint8 (N, S, S, 3), or image files',
    "speech": 'model = runtime.load(".")\nprint(runtime.transcribe(model, ["recording.wav"]))  # 8 kHz mono WAV',
}
