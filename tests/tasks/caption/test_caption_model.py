"""The captioner (``rnnkit.models.captioner``): the step interface against the teacher-forced pass, the
attention weights, the shared decoders (beam 1 = greedy, a batch = its images one by one), the loss with
its doubly stochastic regulariser, and the CNN encoder's grid."""

from dataclasses import replace

import pytest
import torch

from rnnkit.data.text import BOS, EOS, PAD, UNK, TokenVocab
from rnnkit.decoding import beam_search, greedy
from rnnkit.errors import RnnkitError
from rnnkit.models import Captioner, CNNEncoder
from rnnkit.models.captioner import BOS_ID, EOS_ID
from rnnkit.models.captioner_config import CaptionerConfig
from rnnkit.schema import check_fields, from_flat
from rnnkit.tasks.caption.config import CaptionDataConfig
from rnnkit.tasks.caption.decode import Describer
from rnnkit.decoding.options import DecodeOptions

V = 13
SMALL = from_flat(CaptionerConfig, dict(channels="4,8,8", embedding=8, hidden=12, attention_size=6, dropout=0.0))


def make(variant="attend", cell="lstm", seed=0, **kw):
    torch.manual_seed(seed)
    return Captioner(V, replace(SMALL, variant=variant, rnn=replace(SMALL.rnn, cell=cell), **kw)).eval()


def images(n, size=24, seed=1):
    return torch.randint(0, 256, (n, size, size, 3), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def describer(model):
    vocab = TokenVocab([PAD, UNK, BOS, EOS] + [f"w{i}" for i in range(V - 4)])
    return Describer(model, vocab, CaptionDataConfig(image_size=24))


@pytest.mark.parametrize("variant,cell", [("attend", "lstm"), ("attend", "gru"), ("show", "lstm"), ("show", "gru"),
                                          ("blind", "lstm"), ("show", "mingru")])
def test_step_by_step_equals_the_teacher_forced_whole_sequence_pass(variant, cell):
    model = make(variant, cell)
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7, 8], [BOS_ID, 9, 4, 4, 10], [BOS_ID, 11, 12, 5, 5]])
    with torch.no_grad():
        state = model.encode(images(3))
        whole, _ = model.decode(state, tgt_in)  # (3, 5, V)
        steps = []
        for t in range(tgt_in.shape[1]):
            log_probs, state = model.step(tgt_in[:, t], state)
            steps.append(log_probs)
    torch.testing.assert_close(torch.stack(steps, dim=1), whole, atol=1e-5, rtol=1e-5)
    assert torch.allclose(whole.exp().sum(-1), torch.ones(3, 5), atol=1e-5)


def test_show_and_tell_uses_the_fused_whole_sequence_kernel_in_training():
    model = make("show", "lstm")
    assert model.decoder.layers[0].engine in ("auto", "torch")  # auto picks torch's fused LSTM for full sequences


def test_attention_weights_are_a_distribution_over_the_grid_and_the_gate_scales_the_context():
    model = make("attend")
    grid = model.grid_shape(24, 24)
    assert grid == (3, 3) and model.encoder(images(1)).shape == (1, 9, 8)
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 9, 10]])
    _, alpha = model.decode(model.encode(images(2)), tgt_in)
    assert alpha.shape == (2, 4, 9) and bool((alpha >= 0).all())
    torch.testing.assert_close(alpha.sum(-1), torch.ones(2, 4))
    maps = model.attention_maps(images(1), [5, 6, EOS_ID])
    assert maps.shape == (3, 9)
    torch.testing.assert_close(maps, model.decode(model.encode(images(1)), torch.tensor([[BOS_ID, 5, 6]]))[1][0])
    with pytest.raises(RnnkitError, match="no attention"):
        make("show").attention_maps(images(1), [5, EOS_ID])


def test_the_loss_is_the_cross_entropy_plus_the_doubly_stochastic_regulariser():
    model = make("attend", doubly_stochastic=0.7)
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 0, 0], [BOS_ID, 9, 10, 0]])
    tgt_out = torch.tensor([[5, 6, 7, EOS_ID], [8, EOS_ID, 0, 0], [9, 10, EOS_ID, 0]])
    owner = torch.tensor([0, 1, 1])  # two captions of the second image
    pictures = images(2)
    _, loss, _ = model((tgt_in, pictures, owner), tgt_out)
    log_probs, alpha = model.decode(model.encode(pictures, owner), tgt_in)
    real = tgt_out != 0
    nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)[real].mean()
    coverage = sum(alpha[:, t] * real[:, t, None] for t in range(4))  # (3, L): Σ_t α_ti over the real steps
    expected = nll + 0.7 * ((1 - coverage) ** 2).mean()
    torch.testing.assert_close(loss, expected)
    _, no_reg, _ = make("show")((tgt_in, pictures, owner), tgt_out)
    assert no_reg.ndim == 0 and torch.isfinite(no_reg)


def test_the_image_reaches_the_loss_but_not_in_the_blind_model():
    tgt_in, tgt_out = torch.tensor([[BOS_ID, 5, 6]]), torch.tensor([[5, 6, EOS_ID]])
    for variant in ("attend", "show"):
        model = make(variant).train()
        _, loss, _ = model((tgt_in, images(1), torch.tensor([0])), tgt_out)
        loss.backward()
        assert model.encoder.stages[0][0][0].weight.grad.abs().sum() > 0
    blind = make("blind")
    assert blind.encoder is None
    a = blind.decode(blind.encode(images(1, seed=3)), tgt_in)[0]
    b = blind.decode(blind.encode(images(1, seed=4)), tgt_in)[0]
    torch.testing.assert_close(a, b)  # the blind model never sees the image


@pytest.mark.parametrize("variant", ["attend", "show"])
def test_beam_width_one_is_greedy(variant):
    model = make(variant, seed=2)
    with torch.no_grad():
        state = model.encode(images(4))
        g = greedy(model.step, state, BOS_ID, 7, EOS_ID)
        b = beam_search(model.step, state, BOS_ID, beam=1, max_len=7, eos=EOS_ID, length_penalty=0.0)
    assert [h.tokens for h in g] == [h[0].tokens for h in b]
    assert [h.log_prob for h in g] == pytest.approx([h[0].log_prob for h in b], abs=1e-9)


@pytest.mark.parametrize("decoder", ["greedy", "beam", "sample", "exhaustive"])
def test_a_batch_gives_the_same_captions_as_its_images_one_by_one(decoder):
    d = describer(make("attend", seed=3))
    pictures = images(5, seed=7)
    options = DecodeOptions(decoder=decoder, beam=3, n_best=2 if decoder != "greedy" else 1, max_output=3,
                            shortlist=3, batch_size=5)
    together = d.describe(pictures, options)
    if decoder == "sample":  # the draws depend on the batch's layout; the same seed gives the same draws
        again = d.describe(pictures, options)
        assert [[h.tokens for h in hs] for hs in together] == [[h.tokens for h in hs] for hs in again]
        assert all(len(hs) == 2 for hs in together)
        return
    alone = [d.describe(pictures[i : i + 1], replace(options, batch_size=1))[0] for i in range(5)]
    assert [[h.tokens for h in hs] for hs in together] == [[h.tokens for h in hs] for hs in alone]
    for hs, hs1 in zip(together, alone):
        assert [h.log_prob for h in hs] == pytest.approx([h.log_prob for h in hs1], abs=1e-4)


def test_cnn_encoder_grid_and_channel_validation():
    encoder = CNNEncoder("8,8,8,16")
    assert encoder.grid_shape(96, 96) == (6, 6) and encoder.size == 16
    assert encoder(torch.zeros(2, 96, 96, 3, dtype=torch.uint8)).shape == (2, 36, 16)
    with pytest.raises(RnnkitError, match="^channels must be positive integers"):
        CNNEncoder("8,x")
    with pytest.raises(RnnkitError, match="RGB"):
        encoder(torch.zeros(2, 3, 96, 96, dtype=torch.uint8))
    with pytest.raises(RnnkitError, match=r"^--variant must be one of: attend, blind, show, got 'listen'$"):
        check_fields(replace(SMALL, variant="listen"))  # checked where a config enters, not by the model
