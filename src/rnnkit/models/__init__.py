"""Task models. Every one has ``forward(inputs, targets=None, state=None) -> (outputs, loss, state)``,
so one trainer serves them all.

``Seq2Seq`` and ``Captioner`` are exported here (``rnnkit.models.Seq2Seq``, ``rnnkit.models.Captioner``);
the others are imported from their modules (``rnnkit.models.language_model.CharLM``, ``classifier``,
``forecaster``), as the tasks do.
"""


def __getattr__(name):  # lazy: importing rnnkit.models for one model does not build the others
    if name in ("Seq2Seq", "DecoderState"):
        from rnnkit.models import seq2seq

        return getattr(seq2seq, name)
    if name in ("Captioner", "CaptionState", "CNNEncoder"):
        from rnnkit.models import captioner

        return getattr(captioner, name)
    if name in ("Tagger", "CharEncoder"):
        from rnnkit.models import tagger

        return getattr(tagger, name)
    if name in ("CRF", "bio_transitions"):
        from rnnkit.models import crf

        return getattr(crf, name)
    if name in ("WordClassifier", "CTCRecognizer", "SpeechEncoder"):
        from rnnkit.models import speech

        return getattr(speech, name)
    raise AttributeError(f"module 'rnnkit.models' has no attribute {name!r}")
