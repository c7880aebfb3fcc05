"""litsynth: a static report-site generator for verified literature syntheses."""

__version__ = "0.1.0"
