"""Every task's checkpoint (``tests/fixtures/<task>/run``) exported to ONNX and run by onnxruntime agrees with
PyTorch: outputs to 1e-5 in float32 for a batch of one and of several, two sequence lengths and variable lengths,
and the decoded results (greedy generation, greedy and beam translation and captions, tags, CTC digits, forecasts)
identical to rnnkit's own."""

import numpy as np
import pytest
import torch

from conftest import ROOT

pytest.importorskip("onnxruntime")

from rnnkit import onnx_runtime as rt  # noqa: E402
from rnnkit.export import export  # noqa: E402
from rnnkit.tasks.runner import load  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
TOL = 1e-5


@pytest.fixture(scope="module", params=["native", "scan"])
def recurrence(request):
    return request.param


def exported(task, tmp_path_factory, recurrence="native"):
    out = tmp_path_factory.mktemp(f"{task}-{recurrence}")
    export(FIXTURES / task / "run", out, recurrence=recurrence)
    return load(FIXTURES / task / "run"), rt.load(out)


def close(a, b):
    a, b = np.asarray(a), b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.abs(a - b).max() <= TOL, np.abs(a - b).max()


def batches(vocab: int, generator):
    """A batch of one, then of four rows of variable lengths, at two padded lengths."""
    for B, T in ((1, 5), (4, 11)):
        ids = torch.randint(2, vocab, (B, T), generator=generator)
        lengths = torch.randint(1, T + 1, (B,), generator=generator)
        lengths[0] = T
        ids = ids.masked_fill(torch.arange(T) >= lengths[:, None], 0)
        yield ids, lengths


def test_lm_step_score_and_greedy_generation(tmp_path_factory, recurrence):
    from rnnkit.tasks.lm.generate import generate

    run, m = exported("lm", tmp_path_factory, recurrence)
    g = torch.Generator().manual_seed(0)
    for T in (3, 17):
        ids = torch.randint(0, run.model.vocab_size, (2, T), generator=g)
        state = run.model.init_state(2)
        with torch.no_grad():
            logits, _, final = run.model(ids, state=state)
        out = m.run("score", ids=ids.numpy(), **rt.lm_state(m, 2))
        close(out["log_probs"], torch.log_softmax(logits, -1))
        close(out["h_out"], torch.stack([s.h for s in final]))
        with torch.no_grad():
            lp, after = run.model.step(ids[:, 0], state)
        step = m.run("step", ids=ids[:, 0].numpy(), **rt.lm_state(m, 2))
        close(step["log_probs"], lp)
        close(step["c_out"], torch.stack([s.c for s in after]))
    prime = "the "
    assert rt.generate(m, prime, 40, temperature=0) == generate(run.model, run.vocabs["vocab"], prime, 40, temperature=0)
    assert rt.generate(m, prime, 12, beam=3) == generate(run.model, run.vocabs["vocab"], prime, 12, beam=3)
    assert len(rt.generate(m, prime, 9, temperature=1.0, top_k=5, seed=1)) == len(prime) + 9


def test_classify_logits_and_labels(tmp_path_factory, recurrence):
    run, m = exported("classify", tmp_path_factory, recurrence)
    for ids, lengths in batches(len(run.vocabs["vocab"]), torch.Generator().manual_seed(1)):
        with torch.no_grad():
            logits, _, _ = run.model((ids, lengths))
        out = m.run("model", ids=ids.numpy(), lengths=lengths.numpy())
        close(out["logits"], logits)
    texts = ["the acting was great", "a bad , awful plot", "good film"]
    from rnnkit.tasks.classify.data import Encoded, predict_logits
    from rnnkit.models.classifier import class_probabilities

    probs = class_probabilities(predict_logits(run.model, Encoded(texts, run.vocabs["vocab"], "word")))
    got = rt.classify(m, texts)
    assert [label for label, _ in got] == [run.vocabs["classes"][i] for i in probs.argmax(1).tolist()]
    close(np.array([p for _, p in got]), probs)


def test_forecast_windows_any_length_and_the_forecast(tmp_path_factory, recurrence):
    from rnnkit.data.series import read_series
    from rnnkit.tasks.forecast.scores import forecast

    run, m = exported("forecast", tmp_path_factory, recurrence)
    g = torch.Generator().manual_seed(2)
    for B, W in ((1, 24), (3, 7)):
        x = torch.randn(B, W, generator=g)
        with torch.no_grad():
            close(m.run("model", window=x.numpy())["forecast"], run.model(x)[0])
    d = run.configs["data"]
    values = read_series(FIXTURES / "data" / "forecast" / "monthly.csv").values
    scaler = run.vocabs["scaler"]
    z = scaler.transform(values)
    want = scaler.inverse(forecast(run.model, z, np.array([len(z)]), d.window, 3, d.strategy, d.residual))[0]
    np.testing.assert_allclose(rt.forecast(m, values, 3), want, rtol=1e-5)


def test_tag_emissions_and_tags(tmp_path_factory, recurrence):
    from rnnkit.tasks.tag.data import Encoded

    run, m = exported("tag", tmp_path_factory, recurrence)
    v = run.vocabs
    sentences = [["the", "Dog", "eats"], ["a", "big", "red", "house", "sees", "the", "unseen-word", "!"], ["cat"]]
    for chosen in (sentences[:1], sentences):
        inputs, _ = Encoded(chosen, v["words"], v["chars"], run.configs["data"].lowercase,
                            run.configs["data"].max_word).read(range(len(chosen)))
        with torch.no_grad():
            emissions = run.model.emissions(inputs)
        close(m.run("model", **rt.tag_inputs(m.config, chosen))["emissions"], emissions)
        want = [[v["tags"][i] for i in row] for row in run.model.decode(inputs)]
        assert rt.tag(m, chosen) == want


def test_viterbi_is_rnnkits_exactly():
    from rnnkit.models.crf import CRF, bio_transitions

    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    crf = CRF(5, *bio_transitions(tags))
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    emissions, lengths = torch.randn(6, 9, 5, generator=g), torch.tensor([9, 1, 4, 7, 2, 9])
    trans, start, end = (t.tolist() for t in crf.scores())
    assert rt.viterbi(emissions.numpy(), lengths.numpy(), trans, start, end) == crf.viterbi(emissions, lengths)[0]


def decoder_agrees(run, m, state, feeds, tokens):
    """One decoder step from the encoder's state: log-probabilities and new state, ONNX against torch."""
    with torch.no_grad():
        lp, after = run.model.step(tokens, state)
    out = m.run("decoder", tokens=tokens.numpy(), **feeds)
    close(out["log_probs"], lp)
    close(out["h_out"], torch.stack([s.h if hasattr(s, "h") else s for s in after.rnn]))


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_translate_encoder_decoder_and_search(tmp_path_factory, decoder):
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.tasks.translate.decode import translate_tokens
    from rnnkit.tasks.translate.translator import Translator

    run, m = exported("translate", tmp_path_factory)
    for src, lengths in batches(len(run.vocabs["source"]), torch.Generator().manual_seed(4)):
        with torch.no_grad():
            state = run.model.encode(src, lengths)
        feeds = rt.first_state(m, m.run("encoder", src=src.numpy(), lengths=lengths.numpy()))
        close(feeds["memory"], state.memory)
        decoder_agrees(run, m, state, feeds, torch.full((len(src),), 2))
    sentences = ["the cat sees a dog .", "a big red house .", "the dog likes the cat ."]
    t = Translator.of(run)
    options = DecodeOptions(decoder=decoder, beam=3)
    want = [" ".join(t.words(h[0].tokens)) for h in translate_tokens(t, [t.tokens(s) for s in sentences], options)]
    assert rt.translate(m, sentences, decoder=decoder, beam=3) == want


def test_caption_encoder_decoder_and_search(tmp_path_factory):
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.tasks.caption.decode import Describer

    run, m = exported("caption", tmp_path_factory)
    size = run.configs["data"].image_size
    images = torch.randint(0, 256, (3, size, size, 3), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    with torch.no_grad():
        state = run.model.encode(images)
    feeds = rt.first_state(m, m.run("encoder", images=images.numpy()))
    close(feeds["memory"], state.memory)
    decoder_agrees(run, m, state, feeds, torch.full((3,), 2))
    d = Describer(run.model, run.vocabs["vocab"], run.configs["data"])
    for decoder in ("greedy", "beam"):
        want = d.sentences(images, DecodeOptions(decoder=decoder, beam=3))
        assert rt.caption(m, images.numpy(), decoder=decoder, beam=3) == want


def test_speech_front_end_scores_and_words(tmp_path_factory, recurrence):
    from rnnkit.data.audio import FrontEnd, read_wav
    from rnnkit.tasks.speech.cli import transcribe
    from rnnkit.tasks.speech.data import feature_spec, features_of

    run, m = exported("speech", tmp_path_factory, recurrence)
    wavs = sorted((FIXTURES / "data" / "speech" / "recordings").glob("*.wav"))[:3]
    front = FrontEnd(feature_spec(run.configs["data"]))
    feats = [features_of(front, read_wav(p, 8000)) for p in wavs]
    for f, p in zip(feats, wavs):
        close(rt.features(m, rt.read_wav(p, 8000)), f)
    for chosen in (feats[:1], feats):
        lengths = torch.tensor([len(f) for f in chosen])
        frames = torch.nn.utils.rnn.pad_sequence(chosen, batch_first=True)
        with torch.no_grad():
            logits, _, _ = run.model((frames, lengths))
        close(m.run("model", frames=frames.numpy(), lengths=lengths.numpy())["logits"], logits)
    want = [r["digits"] for r in transcribe(run.model, run.configs["data"], wavs)]
    assert rt.transcribe(m, wavs) == want


def random_checkpoint(task, configs, meta, folder):
    """A checkpoint of ``task`` with random weights (the settings no fixture covers: CTC, a CRF, attention)."""
    from rnnkit.schema import to_flat
    from rnnkit.tasks.runner import get_task, saved_configs
    from rnnkit.train.checkpoint import save_checkpoint

    t = get_task(task)
    meta = {"task": t.checkpoint_task, "configs": configs, **meta}
    c = saved_configs(t, meta)
    torch.manual_seed(0)
    model = t.build(c, t.vocabularies(meta, folder))
    meta["configs"] = {k: to_flat(v) for k, v in c.items()}
    save_checkpoint(folder, model.state_dict(), meta)
    return folder


def test_ctc_speech_log_probs_and_digits(tmp_path):
    from rnnkit.tasks.speech.cli import transcribe

    path = random_checkpoint("speech", {"model": {"cell": "peephole-lstm", "hidden": 6, "stack": 3},
                                        "data": {"task": "connected"}}, {}, tmp_path / "run")
    config = export(path, tmp_path / "onnx")  # its check compares the CTC log-probabilities
    assert config["check"]["max_abs_difference"] <= TOL
    run, m = load(path), rt.load(tmp_path / "onnx")
    wavs = sorted((FIXTURES / "data" / "speech" / "recordings").glob("*.wav"))[:3]
    for beam in (1, 4):
        assert rt.transcribe(m, wavs, beam) == [r["digits"] for r in transcribe(run.model, run.configs["data"], wavs, beam)]


def test_crf_tagger_with_shapes_and_attention(tmp_path):
    from rnnkit.tasks.tag.data import Encoded
    from rnnkit.tasks.tag.shape import SHAPES

    words = ["<pad>", "<unk>", "the", "dog", "paris", "in", "lives"]
    path = random_checkpoint("tag", {"model": {"cell": "gru", "hidden": 5, "embedding": 4, "crf": True, "shape": 3,
                                               "attention": "bahdanau", "char_hidden": 3}},
                             {"words": words, "chars": ["<pad>", "<unk>", *"thedogparisnlv"],
                              "tags": ["B-LOC", "I-LOC", "O"], "shapes": list(SHAPES)}, tmp_path / "run")
    assert export(path, tmp_path / "onnx")["check"]["max_abs_difference"] <= TOL
    run, m = load(path), rt.load(tmp_path / "onnx")
    sentences = [["The", "dog", "lives", "in", "Paris", "2024"], ["dog"]]
    d = run.configs["data"]
    inputs, _ = Encoded(sentences, run.vocabs["words"], run.vocabs["chars"], d.lowercase, d.max_word).read([0, 1])
    assert rt.tag(m, sentences) == [[run.vocabs["tags"][i] for i in row] for row in run.model.decode(inputs)]
