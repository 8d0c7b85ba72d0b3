"""``rnnkit speech``: spoken-digit recognition on the Free Spoken Digit Dataset, isolated digits
(many-to-one) and connected digits (CTC). ``fsdd`` reads and splits the recordings and builds connected
utterances, ``frames`` caches their features, ``task`` trains and scores, ``cli`` is the command."""
