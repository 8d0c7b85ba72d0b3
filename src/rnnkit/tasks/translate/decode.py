"""Decoding a trained translator with every strategy of ``rnnkit.decoding`` (course-notes §8), and scoring
the translations with corpus BLEU and chrF (sacrebleu).

    greedy       the most probable next word, never revised
    beam         the ``beam`` best partial translations; ranked by log p / len ** length_penalty
    sample       words drawn from p (temperature, top-k, top-p); ``n_best`` draws ranked by log p
    exhaustive   every translation of up to ``max_output`` words over a shortlist of ``shortlist`` words:
                 exact within the shortlist, and refused when shortlist ** max_output > max_candidates
"""

from __future__ import annotations

import torch

from rnnkit.decoding import Hypothesis, beam_search, exhaustive, greedy, repeat_state, sample, select_state
from rnnkit.decoding.step import first_tensor
from rnnkit.errors import RnnkitError
from rnnkit.models.seq2seq import BOS_ID, EOS_ID, PAD_ID
from rnnkit.decoding.constraints import banned
from rnnkit.decoding.options import DecodeOptions, banned_ids

def output_limit(translator, options: DecodeOptions) -> int:
    return options.max_output or 2 * translator.data.max_words + 2


def translate_tokens(translator, token_lists: list[list[str]], options: DecodeOptions,
                     progress: bool = False) -> list[list[Hypothesis]]:
    """Per sentence (a list of normalised words), up to ``n_best`` hypotheses (target ids), best first;
    ``progress``: a bar in sentences/s on a terminal."""
    from rnnkit.runtime import progress as progress_bar

    options.check()
    model, L = translator.model, output_limit(translator, options)
    generator = torch.Generator(device=translator.device).manual_seed(options.seed)
    results: list[list[Hypothesis]] = []
    with torch.no_grad(), progress_bar(total=len(token_lists), unit="sentence", desc=options.decoder,
                                       enabled=progress) as bar:
        for lo in range(0, len(token_lists), options.batch_size):
            chunk = token_lists[lo : lo + options.batch_size]
            results += decode_state(model, model.encode(*translator.encode(chunk)), options, L, generator,
                                    banned_ids(options, translator.target))
            bar.update(len(chunk))
    return results


@torch.no_grad()
def decode_state(model, state, options: DecodeOptions, max_len: int, generator=None,
                 ban: list[int] = ()) -> list[list[Hypothesis]]:
    """Per row of the first decoder ``state``, up to ``n_best`` hypotheses, best first, with ``options.decoder``;
    the ids in ``ban`` (``--ban``, e.g. <unk>) never come out.

    ``model`` is any decoder with ``step(tokens, state)`` and a teacher-forced ``decode(state, tgt_in)``
    over a vocabulary whose ids 0-3 are <pad> <unk> <s> </s> (the translator's and the captioner's).
    """
    L, results = max_len, []
    batch = first_tensor(state).shape[0]
    step = banned(model.step, ban)
    if options.decoder == "greedy":
        results += [[h] for h in greedy(step, state, BOS_ID, L, EOS_ID)]
    elif options.decoder == "beam":
        results += beam_search(step, state, BOS_ID, options.beam, L, EOS_ID, options.length_penalty,
                               options.n_best)
    elif options.decoder == "sample":
        drawn = sample(step, repeat_state(state, options.n_best), BOS_ID, L, options.temperature,
                       options.top_k or None, options.top_p or None, EOS_ID, generator)
        for b in range(batch):
            mine = drawn[b * options.n_best : (b + 1) * options.n_best]
            results.append(sorted(mine, key=lambda h: h.log_prob, reverse=True))
    else:
        for b in range(batch):
            one = select_state(state, torch.tensor([b], device=first_tensor(state).device))
            results.append(exhaustive_shortlisted(model, one, L, options, ban))
    return results


def exhaustive_shortlisted(model, state, max_len: int, options: DecodeOptions, ban: list[int] = ()) -> list[Hypothesis]:
    """Exhaustive search of one sentence over the ``shortlist`` words most probable at any step of its
    greedy translation (``</s>`` always among them); the scores are the model's log-probabilities."""
    K = options.shortlist
    if K ** max_len > options.max_candidates:
        raise RnnkitError(f"exhaustive search over a shortlist of {K} words and up to {max_len} output words would "
                          f"score {K ** max_len:,} translations, more than --max-candidates {options.max_candidates:,}; "
                          "lower --shortlist or --max-output, or use --decoder beam")
    first = greedy(model.step, state, BOS_ID, max_len, EOS_ID)[0].tokens
    tgt_in = torch.tensor([[BOS_ID, *first]], device=first_tensor(state).device)
    log_probs, _ = model.decode(state, tgt_in)  # (1, T, V)
    best = log_probs[0].amax(0)  # (V,): each word's highest probability along the way
    best[[PAD_ID, BOS_ID, *ban]] = float("-inf")
    best[EOS_ID] = float("inf")
    allowed = best.topk(min(K, best.numel() - 2)).indices  # (K,) shortlist -> target ids
    K = allowed.numel()
    local_eos = int((allowed == EOS_ID).nonzero()[0, 0])

    def step(tokens, s):  # tokens are shortlist positions; K stands for <s>
        ids = torch.where(tokens == K, BOS_ID, allowed[tokens.clamp(max=K - 1)])
        log_probs, s = model.step(ids, s)
        return log_probs[:, allowed], s

    found = exhaustive(step, state, K, max_len, local_eos, options.max_candidates, options.length_penalty,
                       options.n_best)[0]
    return [Hypothesis([int(allowed[t]) for t in h.tokens], h.log_prob, h.score) for h in found]


def corpus_scores(translator, sources: list[str], references: list[list[str]], options: DecodeOptions,
                  progress: bool = False) -> dict:
    """Corpus BLEU and chrF of the translations of ``sources`` (normalised sentences) against all their
    ``references`` (normalised), and BLEU against the first reference only. BLEU counts the normalised
    words as they are (sacrebleu ``tokenize="none"``): normalisation already split the punctuation."""
    import sacrebleu

    hyps = translate_tokens(translator, [s.split() for s in sources], options, progress)
    outputs = [" ".join(translator.words(h[0].tokens)) for h in hyps]
    most = max(len(r) for r in references)
    streams = [[r[i] if i < len(r) else None for r in references] for i in range(most)]  # None: no more refs
    bleu = sacrebleu.metrics.BLEU(tokenize="none", force=True)  # the words are already normalised and split
    score = bleu.corpus_score(outputs, streams)
    signature = str(bleu.get_signature())  # nrefs: the references of the headline score, read before the next
    return {"bleu": score.score, "bleu_first_reference": bleu.corpus_score(outputs, [[r[0] for r in references]]).score,
            "chrf": sacrebleu.metrics.CHRF().corpus_score(outputs, streams).score, "sentences": len(sources),
            "references": sum(len(r) for r in references), "signature": signature,
            "outputs": outputs}
