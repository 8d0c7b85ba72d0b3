"""``python -m rnnkit`` runs the rnnkit command line; so does ``torchrun -m rnnkit`` on every rank."""

import sys

from rnnkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
