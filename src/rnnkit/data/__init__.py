"""Data: corpora, vocabularies and batching.

``corpus`` and ``vocab`` are pure Python (the NumPy scratch engine uses them); ``batching`` needs torch.
"""
