"""``rnnkit speech``: spoken-digit recognition on the Free Spoken Digit Dataset, isolated digits
(many-to-one) and connected digits (CTC). ``fsdd`` reads and splits the recordings and builds connected
utterances, ``data`` caches their features and scores a recogniser, ``config`` and ``task`` declare the
task, ``cli`` adds ``transcribe``."""
