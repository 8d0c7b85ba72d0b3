"""``Translator``: a trained Seq2Seq with its vocabularies and data settings: sentences in, word ids and
back (what the decoders of ``decode.py`` work on)."""

from __future__ import annotations

from rnnkit.data.batching import pad_sequences
from rnnkit.data.pairs import normalize, words
from rnnkit.data.text import TokenVocab
from rnnkit.models.seq2seq import EOS_ID, PAD_ID
from rnnkit.tasks.translate.config import TranslateDataConfig


class Translator:
    """A trained model with its vocabularies: sentences in, word ids and back."""

    def __init__(self, model, source: TokenVocab, target: TokenVocab, data_config: TranslateDataConfig, device=None):
        self.model, self.source, self.target, self.data = model.eval(), source, target, data_config
        self.device = device or next(model.parameters()).device

    @classmethod
    def of(cls, loaded) -> "Translator":
        """The translator of a loaded checkpoint (``rnnkit.tasks.runner.load``)."""
        return cls(loaded.model, loaded.vocabs["source"], loaded.vocabs["target"], loaded.configs["data"])

    def tokens(self, sentence: str) -> list[str]:
        return words(normalize(sentence, self.data.accents))

    def unknown(self, tokens: list[str]) -> list[str]:
        """The words the model never saw in training (they are read as <unk>)."""
        return [w for w in tokens if w not in self.source.index]

    def encode(self, token_lists: list[list[str]]):
        """``(src (B, S), lengths (B,))`` on the model's device; an empty sentence reads as <unk>."""
        src, lengths = pad_sequences([self.source.encode(t) for t in token_lists], PAD_ID)
        return src.to(self.device), lengths.to(self.device)

    def words(self, ids: list[int]) -> list[str]:
        """Target ids -> words, stopping at </s>."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            out.append(self.target.tokens[i])
        return out
