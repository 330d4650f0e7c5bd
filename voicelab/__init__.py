"""VoiceLab: generate AI voice takes for game dialogue, then rank them."""

__version__ = "0.1.0"
