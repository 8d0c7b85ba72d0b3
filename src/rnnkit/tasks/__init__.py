"""Tasks: the glue from data to a trained model for each problem shape of the course (§1):
a character-level language model (many-to-many, synchronised) first."""
