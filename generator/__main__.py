"""``python -m generator`` runs the ``litsynth`` command line."""

import sys

from generator.cli import main

sys.exit(main())
