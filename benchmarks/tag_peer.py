"""Peer comparison for ``rnnkit tag``: the same word + character BiLSTM tagger written in plain PyTorch
(``nn.LSTM``, packed sequences), trained on the same batches with the same optimiser, in one run.

Both models see the identical stream of bucketed batches of UD English EWT. Training alternates between
them in chunks of ``--chunk`` steps, so the load of a shared machine falls on both alike; sentences per
second count forward, backward and the optimiser step. Both are then scored on the test file.

    python benchmarks/tag_peer.py [--steps 600] [--threads 1] [--json runs/tag/peer.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.models.tagger import Tagger
from rnnkit.models.tagger_config import TaggerConfig
from rnnkit.tasks.batches import AUGMENTATION, ShuffledBatches
from rnnkit.tasks.tag.data import BucketSampler, Encoded, build_vocabs, encode_tags, read_tagged
from rnnkit.tasks.tag.predict import scores

UD = Path(__file__).resolve().parents[2] / "shared" / "data" / "ud-english-ewt" / "en_ewt-ud"


class PlainTagger(nn.Module):
    """Word embedding + char BiLSTM (final states) -> BiLSTM -> Linear, with torch.nn only."""

    def __init__(self, num_words: int, num_chars: int, num_tags: int, c: TaggerConfig):
        super().__init__()
        self.embed = nn.Embedding(num_words, c.embedding, padding_idx=0)
        self.char_embed = nn.Embedding(num_chars, c.char_embedding, padding_idx=0)
        self.char_rnn = nn.LSTM(c.char_embedding, c.char_hidden, batch_first=True, bidirectional=True)
        self.rnn = nn.LSTM(c.embedding + 2 * c.char_hidden, c.rnn.hidden, batch_first=True, bidirectional=True)
        self.drop, self.word_dropout = nn.Dropout(c.rnn.dropout), c.word_dropout
        self.head = nn.Linear(2 * c.rnn.hidden, num_tags)

    def emissions(self, inputs):
        words, lengths, chars, char_lengths, slots, _ = inputs  # the shape classes are unused (--shape 0)
        if self.training and self.word_dropout > 0:
            words = words.masked_fill((torch.rand(words.shape) < self.word_dropout) & (words > 1), 1)
        packed = pack_padded_sequence(self.char_embed(chars), char_lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.char_rnn(packed)  # h (2, U, C): each direction's final state
        per_word = torch.cat([h[0], h[1]], dim=-1)  # (U, 2C)
        x = self.drop(torch.cat([self.embed(words), per_word[slots]], dim=-1))  # (B, T, E + 2C)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=words.shape[1])
        return self.head(self.drop(out))  # (B, T, K)

    def forward(self, inputs, targets=None, state=None):
        e = self.emissions(inputs)
        valid = torch.arange(e.shape[1]).unsqueeze(0) < inputs[1].unsqueeze(1)
        loss = nn.functional.cross_entropy(e[valid], targets[valid]) if targets is not None else None
        return e, loss, None

    @torch.no_grad()
    def decode(self, inputs):
        return [row[: int(n)] for row, n in zip(self.emissions(inputs).argmax(-1).tolist(), inputs[1].tolist())]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=600, help="training steps of each model")
    p.add_argument("--chunk", type=int, default=50, help="steps of one model before switching to the other")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    config = TaggerConfig()
    train_s, test_s = read_tagged(f"{UD}-train.conllu"), read_tagged(f"{UD}-test.conllu")
    words, chars, tags = build_vocabs(train_s, 1, True)
    encode = lambda s, where: Encoded([x.words for x in s], words, chars, True, 30, encode_tags(s, tags, where))  # noqa: E731
    train, test = encode(train_s, "train"), encode(test_s, "test")
    batches = ShuffledBatches(train, 32, 0, BucketSampler(train.lengths(), 32, 0), offset=AUGMENTATION)
    models = {}
    for name, build in (("rnnkit", lambda: Tagger(len(words), len(chars), tags, config)),
                        ("plain", lambda: PlainTagger(len(words), len(chars), len(tags), config))):
        torch.manual_seed(0)
        model = build()
        models[name] = SimpleNamespace(model=model, opt=torch.optim.Adam(model.parameters(), lr=2e-3), seconds=0.0,
                                       sentences=0, params=sum(q.numel() for q in model.parameters()))
    for lo in range(0, args.steps, args.chunk):
        for m in models.values():
            m.model.train()
            for step in range(lo, min(lo + args.chunk, args.steps)):
                inputs, targets, _ = batches.batch(step)
                start = time.perf_counter()
                _, loss, _ = m.model(inputs, targets)
                m.opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(m.model.parameters(), 5.0)
                m.opt.step()
                m.seconds += time.perf_counter() - start
                m.sentences += len(inputs[1])
    unseen = [[w == 1 for w in row] for row in test.words]
    result = {"steps": args.steps, "threads": args.threads}
    for name, m in models.items():
        s = scores([(m.model, test)], tags, unseen)
        result[name] = {"sentences_per_s": m.sentences / m.seconds, "train_seconds": m.seconds, "parameters": m.params,
                        "test_accuracy": s["accuracy"], "test_unseen_accuracy": s["unseen_accuracy"]}
        print(f"{name:>7}: {m.params:,} parameters, {m.sentences / m.seconds:,.1f} sentences/s "
              f"({m.seconds:.0f} s), test UPOS accuracy {s['accuracy']:.2%} (unseen words {s['unseen_accuracy']:.2%})")
    result["ratio"] = result["rnnkit"]["sentences_per_s"] / result["plain"]["sentences_per_s"]
    print(f"speed ratio rnnkit / plain: {result['ratio']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
