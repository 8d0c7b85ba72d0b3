"""`rnnkit classify`: many-to-one text classification (sentiment, authors): data, training, CLI."""
