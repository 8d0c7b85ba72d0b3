"""rnnkit: every recurrent network of a university RNN course, runnable, verified and fast.

Importing ``rnnkit`` is cheap and does not import torch; the subpackages do what they need
(``rnnkit.scratch`` is NumPy only).
"""

__version__ = "0.1.0"
