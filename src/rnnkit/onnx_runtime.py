"""Run a model exported by ``rnnkit export`` with NumPy and onnxruntime only: no torch, no rnnkit needed.

``rnnkit export RUN --out DIR`` copies this file into ``DIR/runtime.py``; it is one self-contained file so
that a service can ship ``DIR`` alone. Every function takes ``load(DIR)`` (or the folder's path):

    generate(model, prime, length, temperature=1.0, top_k=0, top_p=0.0, beam=1, seed=None)   char-LM
    score(model, text)                    char-LM: log p(text[1:] | text[0]) and bits per character
    classify(model, texts)                [(label, probabilities)]
    forecast(model, values, steps=None)   the next values of a series, in its own units
    tag(model, sentences)                 one tag per word (Viterbi with a CRF, exactly rnnkit's)
    translate(model, sentences, decoder="beam", beam=5, ...)   greedy and beam search as rnnkit.decoding
    caption(model, images, decoder="beam", beam=5, ...)        images: uint8 (N, S, S, 3) or image files
    transcribe(model, recordings, beam=8) the digits spoken: CTC prefix beam search, or the word's class
    features(model, samples)              the speech front end (log-mel or MFCC, per-utterance CMVN)

Preprocessing and decoding mirror rnnkit's (``rnnkit.data``, ``rnnkit.decoding``, ``rnnkit.models.crf``):
the same tokenisers, vocabularies and special ids (``DIR/config.json``), the same beam search (float64
scores, ties to the lower id, finished hypotheses frozen), the same Viterbi in float32. Sampling draws
from NumPy's generator, so a seed gives other characters than rnnkit's torch generator.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

STATE_AXES = {"h": 1, "c": 1, "memory": 0, "keys": 0, "mask": 0}  # each state tensor's batch axis


class Model:
    """An exported folder: ``config`` (its config.json) and one onnxruntime session per part."""

    def __init__(self, folder, threads: int = 1):
        self.folder = Path(folder)
        self.config = json.loads((self.folder / "config.json").read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        self.sessions = {name: ort.InferenceSession(str(self.folder / p["file"]), options, providers=["CPUExecutionProvider"])
                         for name, p in self.config["parts"].items()}
        self.task = self.config["task"]

    def run(self, part: str, **feeds) -> dict:
        """Run one part; ``feeds`` may hold more than it reads (only its inputs are passed)."""
        session = self.sessions[part]
        wanted = {i.name for i in session.get_inputs()}
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, {k: v for k, v in feeds.items() if k in wanted})))


def load(folder, threads: int = 1) -> Model:
    return folder if isinstance(folder, Model) else Model(folder, threads)


def pad(rows: list[list[int]], value: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Id lists -> ``(ids (B, T) int64, lengths (B,) int64)``, padded at the end."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    ids = np.full((len(rows), int(lengths.max())), value, dtype=np.int64)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = r
    return ids, lengths


def encode_tokens(index: dict, tokens: list[str]) -> list[int]:
    return [index.get(t, 1) for t in tokens] or [1]  # 1 is <unk>; an empty text reads as one <unk>


# ------------------------------------------------------------------------------ decoding (rnnkit.decoding)
def select(state: dict, index: np.ndarray) -> dict:
    return {k: np.take(v, index, axis=STATE_AXES[k]) for k, v in state.items()}


def greedy(step, state, start, max_len: int, eos=None):
    """``rnnkit.decoding.greedy``: ``[(tokens, log_prob)]`` per row; ties go to the lowest id."""
    B = state_batch(state)
    tokens = np.full(B, start, dtype=np.int64)
    log_prob, lengths, done, chosen = np.zeros(B), np.zeros(B, dtype=np.int64), np.zeros(B, dtype=bool), []
    for _ in range(max_len):
        lp, state = step(tokens, state)
        tokens = lp.argmax(-1)
        log_prob = log_prob + np.where(~done, lp[np.arange(B), tokens].astype(np.float64), 0.0)
        lengths += ~done
        chosen.append(tokens)
        if eos is not None:
            done |= tokens == eos
        if done.all():
            break
    history = np.stack(chosen, 1)
    return [(history[b, : lengths[b]].tolist(), float(log_prob[b])) for b in range(B)]


def beam_search(step, state, start, beam: int = 5, max_len: int = 100, eos=None, length_penalty: float = 0.0,
                n_best: int = 1):
    """``rnnkit.decoding.beam_search``: per row, up to ``n_best`` ``(tokens, log_prob, score)``, best first."""
    B = state_batch(state)
    tokens, K = np.full(B, start, dtype=np.int64), 1
    cum, lengths = np.zeros(B), np.zeros(B, dtype=np.int64)
    finished, history = np.zeros(B, dtype=bool), np.zeros((B, 0), dtype=np.int64)
    row_start = np.arange(B)[:, None]
    for _ in range(max_len):
        lp, state = step(tokens, state)
        V = lp.shape[-1]
        lp = lp.astype(np.float64)
        if finished.any():  # a finished hypothesis extends only by itself, at zero cost
            frozen = np.full(V, -np.inf)
            frozen[eos if eos is not None else 0] = 0.0
            lp = np.where(finished[:, None], frozen, lp)
        candidates = (cum[:, None] + lp).reshape(B, K * V)
        new_K = min(beam, K * V)
        flat = np.argsort(-candidates, axis=1, kind="stable")[:, :new_K]  # best first, ties: the lower index
        scores = np.take_along_axis(candidates, flat, 1)
        parent = (flat // V + row_start * K).reshape(-1)
        tokens = (flat % V).reshape(-1)
        was_finished = finished[parent]
        cum = scores.reshape(-1)
        history = np.concatenate([history[parent], tokens[:, None]], 1)
        lengths = lengths[parent] + ~was_finished
        finished = was_finished | np.isneginf(cum)
        if eos is not None:
            finished |= tokens == eos
        state = select(state, parent) if isinstance(state, dict) else state
        K = new_K
        if finished.all():
            break
    score = (cum / lengths.astype(np.float64) ** length_penalty).reshape(B, K)
    cum, lengths, history = cum.reshape(B, K), lengths.reshape(B, K), history.reshape(B, K, -1)
    results = []
    for b in range(B):
        hyps = [(history[b, k, : lengths[b, k]].tolist(), float(cum[b, k]), float(score[b, k]))
                for k in range(K) if cum[b, k] != -np.inf]
        hyps.sort(key=lambda h: h[2], reverse=True)
        results.append(hyps[:n_best])
    return results


def sample(step, state, start, max_len: int, temperature=1.0, top_k=0, top_p=0.0, eos=None, seed=None):
    """Tokens drawn from ``softmax(log p / temperature)``, optionally within the top k or the top-p nucleus."""
    rng = np.random.default_rng(seed)
    B = state_batch(state)
    tokens, done, chosen = np.full(B, start, dtype=np.int64), np.zeros(B, dtype=bool), []
    for _ in range(max_len):
        lp, state = step(tokens, state)
        logits = lp.astype(np.float64) / temperature
        if top_k:
            kth = np.sort(logits, axis=1)[:, -min(top_k, logits.shape[1])][:, None]
            logits = np.where(logits < kth, -np.inf, logits)
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        if top_p:
            order = np.argsort(-p, axis=1, kind="stable")
            sorted_p = np.take_along_axis(p, order, 1)
            keep = np.cumsum(sorted_p, 1) - sorted_p < top_p  # the smallest set reaching top_p
            mask = np.zeros_like(keep)
            np.put_along_axis(mask, order, keep, 1)
            p = np.where(mask, p, 0.0)
            p /= p.sum(1, keepdims=True)
        tokens = np.array([rng.choice(len(row), p=row) for row in p], dtype=np.int64)
        chosen.append(np.where(done, -1, tokens))
        if eos is not None:
            done |= tokens == eos
        if done.all():
            break
    history = np.stack(chosen, 1)
    return [[int(t) for t in row if t >= 0] for row in history]


def state_batch(state) -> int:
    if isinstance(state, dict):
        k = next(iter(state))
        return state[k].shape[STATE_AXES[k]]
    return len(state)


def ctc_collapse(path, blank: int = 0) -> list[int]:
    out, previous = [], None
    for s in path:
        s = int(s)
        if s != previous and s != blank:
            out.append(s)
        previous = s
    return out


def _logadd(*xs: float) -> float:
    m = max(xs)
    return m if m == -math.inf else m + math.log(sum(math.exp(x - m) for x in xs))


def ctc_beam_decode(log_probs: np.ndarray, beam: int = 8, blank: int = 0) -> list[int]:
    """``rnnkit.decoding.ctc``: the best labelling (prefix beam search), or the best path's collapse for beam 1."""
    if beam <= 1:
        return ctc_collapse(log_probs.argmax(-1), blank)
    beams = {(): (0.0, -math.inf)}
    for frame in log_probs.astype(np.float64).tolist():
        nxt = defaultdict(lambda: (-math.inf, -math.inf))
        candidates = [c for c in range(len(frame)) if c != blank]
        for prefix, (p_b, p_nb) in beams.items():
            total = _logadd(p_b, p_nb)
            b, nb = nxt[prefix]
            nxt[prefix] = (_logadd(b, total + frame[blank]), nb)
            last = prefix[-1] if prefix else None
            for c in candidates:
                ext = prefix + (c,)
                b, nb = nxt[ext]
                if c == last:
                    nxt[ext] = (b, _logadd(nb, p_b + frame[c]))
                    b, nb = nxt[prefix]
                    nxt[prefix] = (b, _logadd(nb, p_nb + frame[c]))
                else:
                    nxt[ext] = (b, _logadd(nb, total + frame[c]))
        ranked = sorted((kv for kv in nxt.items() if _logadd(*kv[1]) > -math.inf), key=lambda kv: _logadd(*kv[1]),
                        reverse=True)
        beams = dict(ranked[:beam])
    return list(max(beams.items(), key=lambda kv: _logadd(*kv[1]))[0])


def viterbi(emissions: np.ndarray, lengths: np.ndarray, trans, start, end) -> list[list[int]]:
    """``rnnkit.models.crf.CRF.viterbi`` in float32: the best tag sequence of each row of ``(B, T, K)``."""
    e = emissions.astype(np.float32)
    trans, start, end = (np.asarray(x, dtype=np.float32) for x in (trans, start, end))
    B, T, K = e.shape
    delta, keep, pointers = start + e[:, 0], np.broadcast_to(np.arange(K), (B, K)), []
    for t in range(1, T):
        cand = delta[:, :, None] + trans  # (B, K, K) over the previous tag
        best, arg = cand.max(1), cand.argmax(1)
        alive = (lengths > t)[:, None]
        delta = np.where(alive, best + e[:, t], delta)
        pointers.append(np.where(alive, arg, keep))
    tag = (delta + end).argmax(1)
    path = [tag]
    for arg in reversed(pointers):
        tag = np.take_along_axis(arg, tag[:, None], 1)[:, 0]
        path.append(tag)
    path = np.stack(path[::-1], 1)
    return [path[b, : lengths[b]].tolist() for b in range(B)]


# ------------------------------------------------------------------------------ char-LM
def lm_state(model: Model, batch: int) -> dict:
    c = model.config
    return {n: np.zeros((c["layers"], batch, c["hidden"]), np.float32) for n in c["state"]}


def encode_chars(model: Model, text: str) -> list[int]:
    index = {ch: i for i, ch in enumerate(model.config["vocab"])}
    unknown = sorted({ch for ch in text if ch not in index})
    if unknown:
        raise ValueError(f"characters outside the model's vocabulary: {unknown[:10]}")
    return [index[ch] for ch in text]


def lm_step(model: Model):
    def step(tokens, state):
        out = model.run("step", ids=tokens, **state)
        return out["log_probs"], {n: out[n + "_out"] for n in state}
    return step


def generate(model, prime: str, length: int = 200, temperature: float = 1.0, top_k: int = 0, top_p: float = 0.0,
             beam: int = 1, seed=None) -> str:
    """``prime`` and ``length`` generated characters: beam search (beam > 1), greedy (temperature 0) or sampling."""
    model = load(model)
    ids = encode_chars(model, prime)
    state = lm_state(model, 1)
    if len(ids) > 1:  # read the prime once; its last character starts the decoder
        out = model.run("score", ids=np.array([ids[:-1]], np.int64), **state)
        state = {n: out[n + "_out"] for n in state}
    step, start = lm_step(model), ids[-1]
    if beam > 1:
        tokens = beam_search(step, state, start, beam, length)[0][0][0]
    elif temperature == 0:
        tokens = greedy(step, state, start, length)[0][0]
    else:
        tokens = sample(step, state, start, length, temperature, top_k, top_p, seed=seed)[0]
    return prime + "".join(model.config["vocab"][i] for i in tokens)


def score(model, text: str) -> dict:
    """The log-probability of ``text[1:]`` after ``text[0]`` (nats) and the bits per character."""
    model = load(model)
    ids = encode_chars(model, text)
    out = model.run("score", ids=np.array([ids[:-1]], np.int64), **lm_state(model, 1))
    lp = float(out["log_probs"][0, np.arange(len(ids) - 1), ids[1:]].astype(np.float64).sum())
    return {"log_prob": lp, "bits_per_char": -lp / max(len(ids) - 1, 1) / math.log(2)}


# ------------------------------------------------------------------------------ classify, forecast
_WORD = re.compile(r"[\w']+|[^\w\s]")


def classify(model, texts: list[str]) -> list[tuple[str, list[float]]]:
    """The most probable label of each text, with every class's probability (rnnkit's tokeniser)."""
    model = load(model)
    c = model.config
    index = {t: i for i, t in enumerate(c["vocab"])}
    tokens = [(_WORD.findall(t.lower()) if c["tokens"] == "word" else list(t))[: c["max_len"] or None] for t in texts]
    ids, lengths = pad([encode_tokens(index, t) for t in tokens])
    probs = model.run("model", ids=ids, lengths=lengths)["probabilities"]
    return [(c["classes"][int(p.argmax())], p.tolist()) for p in probs]


def forecast(model, values, steps: int | None = None) -> list[float]:
    """The ``steps`` values after ``values`` (default: the trained horizon), as rnnkit's forecaster makes them."""
    model = load(model)
    c, s = model.config, model.config["scaler"]
    steps = steps or c["horizon"]
    v = np.asarray(values, dtype=np.float64)
    z = ((np.log(v) if s["log"] else v) - s["shift"]) / s["scale"]
    x = z[None, -c["window"]:].astype(np.float32)  # (1, W)

    def ahead(x):
        out = model.run("model", window=x)["forecast"]
        out = out[:, -1] if out.ndim == 3 else out  # many-to-many: the forecast after the last step
        return out + x[:, -1:] if c["residual"] else out

    if c["strategy"] == "direct":
        preds = ahead(x)[0, :steps].astype(np.float64)
    else:
        preds = []
        for _ in range(steps):
            p = ahead(x)[:, :1]
            preds.append(float(p[0, 0]))
            x = np.concatenate([x[:, 1:], p], 1).astype(np.float32)
        preds = np.array(preds)
    f = preds * s["scale"] + s["shift"]
    return (np.exp(f) if s["log"] else f).tolist()


# ------------------------------------------------------------------------------ tag
_NUMBER_MARKS = set(".,:/-")


def word_shape(word: str, shapes: list[str]) -> int:
    """``rnnkit.tasks.tag.shape.word_shape``: the id of a word's shape class, from its spelling as written."""
    low = word.lower()
    if low.startswith(("http://", "https://", "www.")) or "://" in low:
        name = "url"
    elif len(word) > 1 and word[0] == "@":
        name = "mention"
    elif len(word) > 1 and word[0] == "#":
        name = "hashtag"
    elif any(ch.isdigit() for ch in word):
        number = word[0].isdigit() and word[-1].isdigit() and all(ch.isdigit() or ch in _NUMBER_MARKS for ch in word)
        name = "number" if number else "digits"
    else:
        cased = [ch for ch in word if ch.isupper() or ch.islower()]
        upper = [ch.isupper() for ch in cased]
        if not cased:
            name = "other" if any(ch.isalpha() for ch in word) else "punct"
        elif not any(upper):
            name = "lower"
        elif upper[0] and not any(upper[1:]):
            name = "Capital"
        elif all(upper) and len(cased) > 1:
            name = "ALLCAPS"
        else:
            name = "miXed"
    return shapes.index(name)


def tag_inputs(c: dict, sentences: list[list[str]]) -> dict:
    """A tagger's inputs for ``sentences`` (lists of words), as ``rnnkit.tasks.tag.data.Encoded`` builds them."""
    words, chars = {t: i for i, t in enumerate(c["words"])}, {t: i for i, t in enumerate(c["chars"])}
    ids, lengths = pad([encode_tokens(words, [w.lower() if c["lowercase"] else w for w in s]) for s in sentences])
    feeds = {"words": ids, "lengths": lengths}
    if c["uses_chars"]:
        distinct = {}
        slots = [[distinct.setdefault(w[: c["max_word"]], len(distinct)) for w in s] for s in sentences]
        feeds["chars"], feeds["char_lengths"] = pad([encode_tokens(chars, list(w)) for w in distinct])
        feeds["slots"] = pad(slots)[0]
    if c["uses_shapes"]:
        feeds["shapes"] = pad([[word_shape(w, c["shapes"]) for w in s] for s in sentences])[0]
    return feeds


def tag(model, sentences: list[list[str]]) -> list[list[str]]:
    """The tags of each sentence (a list of words): Viterbi with the CRF's scores, else the per-word argmax."""
    model = load(model)
    c = model.config
    feeds = tag_inputs(c, sentences)
    emissions = model.run("model", **feeds)["emissions"]
    lengths = feeds["lengths"]
    if c["crf"] is not None:
        ids = viterbi(emissions, lengths, c["crf"]["trans"], c["crf"]["start"], c["crf"]["end"])
    else:
        ids = [row[:n].tolist() for row, n in zip(emissions.argmax(-1), lengths)]
    return [[c["tags"][i] for i in row] for row in ids]


# ------------------------------------------------------------------------------ translate, caption
_PUNCT = re.compile(r"([.!?,;:\"«»()¿¡'’…])")
_SPACE = re.compile(r"\s+")


def normalize(text: str, accents: str = "strip") -> str:
    """``rnnkit.data.pairs.normalize``: NFD, lowercase, accents stripped or kept, spaced punctuation."""
    text = unicodedata.normalize("NFD", text.lower().strip())
    if accents == "strip":
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    else:
        text = unicodedata.normalize("NFC", text)
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    return _SPACE.sub(" ", _PUNCT.sub(r" \1 ", text)).strip()


def decode(model: Model, state: dict, vocab: list[str], decoder: str, beam: int, length_penalty: float,
           max_output: int | None, n_best: int):
    c = model.config
    ids, L = c["ids"], max_output or c["decoding"]["max_output"]

    def step(tokens, state):
        out = model.run("decoder", tokens=tokens, **state)
        return out["log_probs"], {**state, **{n: out[n + "_out"] for n in c["state"]}}

    if decoder == "greedy":
        found = [[(t, lp, lp)] for t, lp in greedy(step, state, ids["bos"], L, ids["eos"])]
    elif decoder == "beam":
        found = beam_search(step, state, ids["bos"], beam, L, ids["eos"], length_penalty, n_best)
    else:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of: beam, greedy")

    def words(tokens):
        out = []
        for i in tokens:
            if i == ids["eos"]:
                break
            out.append(vocab[i])
        return " ".join(out)

    return [[words(h[0]) for h in hyps] if n_best > 1 else words(hyps[0][0]) for hyps in found]


def first_state(model: Model, out: dict) -> dict:
    return {k: out[k + "_out" if k in ("h", "c") else k] for k in [*model.config["state"], "memory", "keys", "mask"]
            if (k + "_out" if k in ("h", "c") else k) in out}


def translate(model, sentences: list[str], decoder: str = "beam", beam: int = 5, length_penalty: float = 1.0,
              max_output: int | None = None, n_best: int = 1):
    """The translation of each sentence (its normalised words, as rnnkit's ``translate``)."""
    model = load(model)
    c = model.config
    index = {t: i for i, t in enumerate(c["source_vocab"])}
    src, lengths = pad([encode_tokens(index, normalize(s, c["accents"]).split()) for s in sentences], c["ids"]["pad"])
    state = first_state(model, model.run("encoder", src=src, lengths=lengths))
    return decode(model, state, c["target_vocab"], decoder, beam, length_penalty, max_output, n_best)


def read_images(paths, size: int) -> np.ndarray:
    from PIL import Image  # only for image files; arrays need nothing

    out = []
    for p in paths:
        with Image.open(p) as image:
            image = image.convert("RGB")
            if image.size != (size, size):
                image = image.resize((size, size), Image.BILINEAR)
            out.append(np.asarray(image, dtype=np.uint8))
    return np.stack(out)


def caption(model, images, decoder: str = "beam", beam: int = 5, length_penalty: float = 1.0,
            max_output: int | None = None, n_best: int = 1):
    """A caption per image: ``images`` uint8 ``(N, S, S, 3)`` at the trained size, or image file paths."""
    model = load(model)
    c = model.config
    if not isinstance(images, np.ndarray):
        images = read_images(images, c["image_size"])
    state = first_state(model, model.run("encoder", images=images.astype(np.uint8)))
    return decode(model, state, c["vocab"], decoder, beam, length_penalty, max_output, n_best)


# ------------------------------------------------------------------------------ speech
def read_wav(path, rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != rate:
            raise ValueError(f"{path}: give a mono 16-bit PCM WAV file at {rate} Hz")
        raw = w.readframes(w.getnframes())
    return np.frombuffer(raw[: 2 * (len(raw) // 2)], dtype="<i2").astype(np.float32) / 32768.0


def mel_filterbank(n_mels: int, n_fft: int, rate: int) -> np.ndarray:
    """``rnnkit.data.audio.mel_filterbank``: triangles on FFT bins, ``(n_fft // 2 + 1, n_mels)``."""
    mel = lambda f: 2595.0 * math.log10(1.0 + f / 700.0)
    hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    lo, hi = mel(0.0), mel(rate / 2)
    bins = [math.floor((n_fft + 1) * hz(lo + (hi - lo) * i / (n_mels + 1)) / rate) for i in range(n_mels + 2)]
    fb = np.zeros((n_fft // 2 + 1, n_mels))
    for j in range(n_mels):
        left, centre, right = bins[j], bins[j + 1], bins[j + 2]
        for k in range(left, centre):
            fb[k, j] = (k - left) / (centre - left)
        for k in range(centre, right):
            fb[k, j] = (right - k) / (right - centre)
    return fb


def features(model, samples: np.ndarray) -> np.ndarray:
    """``rnnkit.data.audio.FrontEnd`` then ``cmvn``: samples ``(N,)`` in [-1, 1) -> normalised frames ``(T, F)``."""
    s = load(model).config["features"]
    win, hop, n_fft = round(s["win"] * s["rate"]), round(s["hop"] * s["rate"]), s["n_fft"]
    x = np.asarray(samples, dtype=np.float32).astype(np.float64)
    x = np.concatenate([x[:1], x[1:] - s["preemphasis"] * x[:-1]])
    T = 1 if len(x) <= win else 1 + math.ceil((len(x) - win) / hop)
    x = np.pad(x, (0, max(0, (T - 1) * hop + win - len(x))))
    frames = np.stack([x[t * hop : t * hop + win] for t in range(T)]) * np.hamming(win)  # (T, win)
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2 / n_fft  # (T, n_fft/2 + 1): |FFT| ignores where the window sits
    feats = np.log(np.maximum(power @ mel_filterbank(s["n_mels"], n_fft, s["rate"]), 1e-10))
    if s["kind"] == "mfcc":
        n, k = np.arange(s["n_mels"])[:, None], np.arange(s["n_mfcc"])[None, :]
        dct = np.cos(math.pi * k * (2 * n + 1) / (2 * s["n_mels"])) * math.sqrt(2.0 / s["n_mels"])
        dct[:, 0] /= math.sqrt(2.0)
        lift = 1 + (s["lifter"] / 2) * np.sin(math.pi * np.arange(s["n_mfcc"]) / s["lifter"]) if s["lifter"] else 1.0
        feats = (feats @ dct) * lift
    feats = feats.astype(np.float32)
    return (feats - feats.mean(0, keepdims=True)) / (feats.std(0, keepdims=True) + 1e-5)


def transcribe(model, recordings, beam: int | None = None) -> list[list[int]]:
    """The digits in each recording (a WAV path or samples): CTC decoding (``beam`` 1: greedy), or the class."""
    model = load(model)
    c = model.config
    feats = [features(model, r if isinstance(r, np.ndarray) else read_wav(r, c["features"]["rate"])) for r in recordings]
    lengths = np.array([len(f) for f in feats], dtype=np.int64)
    frames = np.zeros((len(feats), int(lengths.max()), feats[0].shape[1]), np.float32)
    for i, f in enumerate(feats):
        frames[i, : len(f)] = f
    out = model.run("model", frames=frames, lengths=lengths)
    if "log_probs" in out:
        beam = beam or c["decoding"]["beam"]
        return [[int(c["classes"][k - 1]) for k in ctc_beam_decode(lp[:n], beam, c["blank"])]
                for lp, n in zip(out["log_probs"], out["out_lengths"])]
    return [[int(c["classes"][int(p.argmax())])] for p in out["probabilities"]]
