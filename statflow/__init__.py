"""statflow: usage statistics for national e-health e-services."""

__version__ = "0.1.0"
