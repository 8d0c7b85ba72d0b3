"""``rnnkit caption``: image captioning (one-to-many) on Flickr8k-style data: the declaration (``task``), data
readers (``data``, ``images``), decoding and scoring (``decode``), the attention figure (``figure``) and the
``describe`` verb (``cli``)."""
