"""`rnnkit translate`: encoder-decoder translation with attention: data splits, training, decoding, CLI."""
