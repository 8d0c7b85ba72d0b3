"""The character-level language model: training with truncated BPTT (`rnnkit train`), generation
(`rnnkit sample`) and looking inside a trained model (`rnnkit inspect`)."""
