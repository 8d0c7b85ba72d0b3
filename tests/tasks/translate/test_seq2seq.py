"""The encoder-decoder: both decoder paths agree, attention respects padding, the bridge, teacher forcing,
and the decoders' invariants on a Seq2Seq."""

import pytest
import torch

from rnnkit.cells import CELLS
from rnnkit.decoding import beam_search, greedy
from rnnkit.errors import RnnkitError
from rnnkit.models.attention import Attention, masked_softmax
from rnnkit.models.seq2seq import BOS_ID, EOS_ID, Seq2Seq
from rnnkit.models.seq2seq_config import Seq2SeqConfig
from rnnkit.schema import check_fields, from_flat
from rnnkit.decoding.options import DecodeOptions
from rnnkit.tasks.translate.decode import exhaustive_shortlisted

pytestmark = pytest.mark.usefixtures("float64", "one_thread")


def model(V_src=20, V_tgt=30, **kw) -> Seq2Seq:
    torch.manual_seed(0)
    options = dict(embedding=8, hidden=12, layers=2, dropout=0.0)
    options.update(kw)
    return Seq2Seq(V_src, V_tgt, from_flat(Seq2SeqConfig, options)).eval()


def batch(V_src=20, V_tgt=30):
    g = torch.Generator().manual_seed(1)
    src = torch.randint(4, V_src, (3, 7), generator=g)
    lengths = torch.tensor([7, 3, 5])
    src[1, 3:] = 0
    src[2, 5:] = 0
    tgt_in = torch.randint(4, V_tgt, (3, 6), generator=g)
    tgt_in[:, 0] = BOS_ID
    return src, lengths, tgt_in


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong"])
def test_whole_sequence_and_step_by_step_decoding_agree(cell, attention):
    m = model(cell=cell, attention=attention, bidirectional=attention != "none")
    src, lengths, tgt_in = batch()
    state = m.encode(src, lengths)
    whole, alpha = m.decode(state, tgt_in)  # (B, T, V)
    steps, s = [], state
    for t in range(tgt_in.shape[1]):
        log_probs, s = m.step(tgt_in[:, t], s)
        steps.append(log_probs)
    torch.testing.assert_close(whole, torch.stack(steps, 1), rtol=1e-9, atol=1e-9)
    assert (alpha is None) == (attention == "none")


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_attention_is_a_distribution_over_the_real_source_words_only(attention):
    m = model(attention=attention)
    src, lengths, tgt_in = batch()
    _, alpha = m.decode(m.encode(src, lengths), tgt_in)  # (B, T, S)
    torch.testing.assert_close(alpha.sum(-1), torch.ones(alpha.shape[:2]))
    assert alpha[1, :, 3:].abs().max().item() == 0.0 and alpha[2, :, 5:].abs().max().item() == 0.0
    assert alpha[0].detach().min().item() > 0


@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong"])
def test_padding_does_not_change_a_translation(attention):
    m = model(attention=attention, cell="gru")
    src, lengths, tgt_in = batch()
    together, _ = m.decode(m.encode(src, lengths), tgt_in)
    alone, _ = m.decode(m.encode(src[1:2, :3], lengths[1:2]), tgt_in[1:2])
    torch.testing.assert_close(together[1:2], alone)


def test_bridge_passes_a_unidirectional_state_and_merges_a_bidirectional_one():
    src, lengths, _ = batch()
    uni = model(bidirectional=False)
    _, final = uni.encoder(uni.src_embed(src), None, lengths)
    state = uni.encode(src, lengths)
    for enc, dec in zip(final, state.rnn):
        torch.testing.assert_close(enc.h, dec.h)
        torch.testing.assert_close(enc.c, dec.c)
    bi = model(bidirectional=True)
    state = bi.encode(src, lengths)
    assert state.memory.shape == (3, 7, 24) and state.rnn[0].h.shape == (3, 12) and len(state.rnn) == 2
    assert len(bi.bridge) == 2 * 2  # layers x (h, c)


def test_attention_gradients_match_finite_differences():
    torch.manual_seed(0)
    for kind in ("bahdanau", "luong"):
        att = Attention(kind, 4, 6)
        memory = torch.randn(2, 5, 6, requires_grad=True)
        query = torch.randn(2, 3, 4, requires_grad=True)
        mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
        assert torch.autograd.gradcheck(lambda q, m: att(q, m, att.keys(m), mask)[0], (query, memory))


def test_masked_softmax_puts_zero_weight_on_padding():
    scores = torch.tensor([[[1.0, 2.0, 3.0]], [[5.0, 0.0, 9.0]]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    p = masked_softmax(scores, mask)
    assert p[1, 0].tolist() == [1.0, 0.0, 0.0]
    torch.testing.assert_close(p[0, 0], scores[0, 0].softmax(-1))


def test_without_teacher_forcing_the_decoder_reads_its_own_predictions():
    m = model(teacher_forcing=0.0).train()  # dropout is 0: training mode changes nothing else
    src, lengths, tgt_in = batch()
    targets = tgt_in.roll(-1, 1)
    _, loss_a, _ = m((src, lengths, tgt_in), targets)
    other = tgt_in.clone()
    other[:, 1:] = (other[:, 1:] + 1) % 30
    _, loss_b, _ = m((src, lengths, other), targets)
    assert loss_a.item() == loss_b.item()  # only <s> was read from the targets
    forced = model(teacher_forcing=1.0).train()
    assert forced((src, lengths, tgt_in), targets)[1].item() != forced((src, lengths, other), targets)[1].item()


def test_loss_skips_padding_and_matches_the_log_probabilities():
    m = model()
    src, lengths, tgt_in = batch()
    targets = tgt_in.roll(-1, 1)
    targets[0, 4:] = 0  # padding
    log_probs, _, _ = m((src, lengths, tgt_in))
    _, loss, _ = m((src, lengths, tgt_in), targets)
    real = targets != 0
    expected = -log_probs[real].gather(1, targets[real].unsqueeze(1)).mean()
    torch.testing.assert_close(loss, expected)


def test_adaptive_softmax_gives_a_normalised_distribution_and_its_loss():
    m = model(V_tgt=1200, output="adaptive", hidden=16)
    src, lengths, tgt_in = batch(V_tgt=1200)
    log_probs, _ = m.decode(m.encode(src, lengths), tgt_in)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, 6))
    targets = tgt_in.roll(-1, 1)
    _, loss, _ = m((src, lengths, tgt_in), targets)
    torch.testing.assert_close(loss, -log_probs.gather(2, targets.unsqueeze(2)).mean())


def test_bad_configurations_are_refused():
    with pytest.raises(RnnkitError, match="attention"):
        model(attention="cosine")
    with pytest.raises(RnnkitError, match=r"^--teacher-forcing must be a finite number in \[0, 1\], got 1.5$"):
        check_fields(Seq2SeqConfig(teacher_forcing=1.5))  # the declared range, checked where a config enters
    with pytest.raises(RnnkitError, match="output layer"):
        model(output="hierarchical")


def test_decoders_on_a_seq2seq_beam_one_is_greedy_and_exhaustive_is_at_least_as_good():
    m = model(V_tgt=7, attention="luong")  # 3 real words + </s>: exhaustive search is exact
    src, lengths, _ = batch(V_tgt=7)
    state = m.encode(src, lengths)
    g = greedy(m.step, state, BOS_ID, 5, EOS_ID)
    b1 = beam_search(m.step, state, BOS_ID, 1, 5, EOS_ID)
    assert [h.tokens for h in g] == [hs[0].tokens for hs in b1]
    b5 = beam_search(m.step, state, BOS_ID, 5, 5, EOS_ID, n_best=3)
    for row in range(3):
        one = m.encode(src[row : row + 1, : lengths[row]], lengths[row : row + 1])
        best = exhaustive_shortlisted(m, one, 5, DecodeOptions(decoder="exhaustive", shortlist=8, length_penalty=0.0))
        assert best[0].log_prob >= b5[row][0].log_prob - 1e-9 >= g[row].log_prob - 1e-9
        assert [h.score for h in b5[row]] == sorted((h.score for h in b5[row]), reverse=True)
