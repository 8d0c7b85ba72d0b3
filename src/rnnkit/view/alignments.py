"""The alignment views: the translator's attention matrix, the captioner's attention map per word,
the speech model's spectrogram, CTC posteriors and transcript, and the tagger's tags with per-token
marginals. Each returns plain JSON for the page; the models' own methods do the computing.
"""

from __future__ import annotations

import torch

from rnnkit.errors import RnnkitError


def translation_attention(run, sentence: str, beam: int = 5) -> dict:
    """α ``(T, S)`` of the translator's beam-search output for ``sentence``."""
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.models.seq2seq import EOS_ID
    from rnnkit.tasks.translate.decode import translate_tokens
    from rnnkit.tasks.translate.translator import Translator

    translator = Translator.of(run)
    tokens = translator.tokens(sentence)
    if not tokens:
        raise RnnkitError("the source sentence is empty; type a sentence to translate")
    hyp = translate_tokens(translator, [tokens], DecodeOptions(decoder="beam", beam=beam))[0][0]
    src, lengths = translator.encode([tokens])
    alpha = run.model.attention_matrix(src, lengths, hyp.tokens).float().cpu()  # (T, S)
    target = translator.words(hyp.tokens) + (["</s>"] if hyp.tokens and hyp.tokens[-1] == EOS_ID else [])
    return {"source": tokens, "unknown": translator.unknown(tokens), "target": target,
            "attention": alpha[: len(target)].tolist()}


def caption_attention(run, image) -> dict:
    """The greedy caption of ``image`` (uint8 ``(S, S, 3)``) and α ``(T, L)`` over the encoder's grid."""
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.models.captioner import EOS_ID
    from rnnkit.tasks.caption.decode import Describer

    describer = Describer(run.model, run.vocabs["vocab"], run.configs["data"])
    images = torch.from_numpy(image).unsqueeze(0)
    hyp = describer.describe(images, DecodeOptions(decoder="greedy"))[0][0]
    alpha = run.model.attention_maps(images.to(describer.device), hyp.tokens).float().cpu()  # (T, L)
    words = describer.words(hyp.tokens) + (["</s>"] if hyp.tokens and hyp.tokens[-1] == EOS_ID else [])
    rows, cols = run.model.grid_shape(image.shape[0], image.shape[1])
    return {"words": words, "grid": [rows, cols], "attention": alpha[: len(words)].tolist()}


def speech_alignment(run, wav_path) -> dict:
    """The log-mel features of a WAV, the model's per-frame posteriors (CTC) and the digits recognised."""
    from rnnkit.tasks.speech.cli import transcribe
    from rnnkit.tasks.speech.task import beam_widths

    d = run.configs["data"]
    r = transcribe(run.model, d, [wav_path], beam_widths("8")[0])[0]
    out = {"features": r["features"].float().T.tolist(), "digits": r["digits"], "stack": run.configs["model"].stack,
           "task": d.task}
    if "posteriors" in r:
        out["posteriors"] = r["posteriors"].float().T.tolist()  # (11, T'): blank, then the digits 0-9
        out["labels"] = ["blank"] + [str(i) for i in range(10)]
    else:
        out["probability"] = r["probability"]
    return out


def tag_marginals(run, sentence: str) -> dict:
    """The tags of ``sentence``'s words and each word's distribution over the tags: the CRF's marginals
    p(y_t = k | x) (the gradient of log Z with respect to the emissions) or the softmax's."""
    from rnnkit.tasks.tag.data import Encoded

    words = sentence.split()
    if not words:
        raise RnnkitError("the sentence is empty; type the words to tag")
    d, model = run.configs["data"], run.model
    inputs, _ = Encoded([words], run.vocabs["words"], run.vocabs["chars"], d.lowercase, d.max_word).read([0])
    device = next(model.parameters()).device
    inputs = type(inputs)(*(x.to(device) for x in inputs))
    with torch.no_grad():
        emissions = model.emissions(inputs).float()  # (1, T, K)
        predicted = model.decode(inputs)[0]
    if model.crf is not None:
        with torch.enable_grad():
            e = emissions.detach().requires_grad_(True)
            model.crf.log_partition(e, inputs.lengths).sum().backward()
        marginals = e.grad[0]  # (T, K): d log Z / d e_t,k = p(y_t = k | x)
    else:
        marginals = emissions[0].softmax(-1)
    return {"words": words, "tags": model.tags, "predicted": [model.tags[i] for i in predicted],
            "marginals": marginals.tolist(), "crf": model.crf is not None}
