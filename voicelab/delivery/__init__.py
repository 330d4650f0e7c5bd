"""Delivery into the game: engine-ready export (formats, loudness, naming, dialogue sheet)."""
