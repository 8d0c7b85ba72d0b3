"""``rnnkit caption``: image captioning (one-to-many) on Flickr8k-style data: data readers (``data``, ``images``),
training (``train``), decoding and scoring (``decode``), the attention figure (``figure``) and the CLI (``cli``)."""
