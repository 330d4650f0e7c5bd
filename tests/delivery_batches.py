"""Batches whose takes are a few seconds of speech-like sound at chosen levels (for loudness).

`speech_batch` writes a real batch (tests.batches.make_batch), then replaces its takes with MP3s
of voiced "syllables" (a 120-220 Hz harmonic buzz shaped at 4 Hz, with noisy consonants and
pauses), each take at its own level; `peaky=True` adds sharp clicks, so a loud target needs the
true-peak limiter.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from tests.batches import make_batch
from voicelab.audio import encode_mp3

RATE = 22_050


@functools.cache
def speech_mp3(seconds: float = 2.5, level: float = 0.2, seed: int = 0,
               peaky: bool = False, rate: int = RATE) -> bytes:
    """Speech-like mono audio as MP3 bytes (cached per arguments)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    pitch = 120 + 100 * rng.random()
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * (3.5 + rng.random()) * t), 0, None) ** 2
    pauses = (np.sin(2 * np.pi * 0.45 * t + rng.random()) > -0.7).astype(float)
    noise = rng.standard_normal(len(t)) * 0.15 * (syllables < 0.1)
    x = (voiced * 0.5 * syllables + noise * syllables.mean()) * pauses
    if peaky:
        for at in rng.integers(0, len(t) - 50, 12):
            x[at: at + 3] += np.array([3.0, -3.0, 2.0])
    x = level * x / np.abs(x).max()
    return encode_mp3(x, rate)


def speech_batch(root: Path, levels: list[float], *, skin: str = "Skin",
                 voice: str = "Voice-v1", peaky: set[int] | None = None,
                 seconds: float = 2.5, categories: dict[int, str] | None = None) -> Path:
    """A batch with one line per level (`Line_<i>`, i from 1), take 1 of each ranked 1 and
    holding speech at that level; `peaky` and `categories` key on the line number."""
    from voicelab import store

    lines = len(levels)
    batch = make_batch(root, skin=skin, voice=voice, lines=lines, takes_per_line=2,
                       ranks={f"Line_{i}_take_1.mp3": 1 for i in range(1, lines + 1)})
    for i, level in enumerate(levels, start=1):
        data = speech_mp3(seconds, level, i, i in (peaky or set()))
        (batch / store.TAKES_DIR / f"Line_{i}_take_1.mp3").write_bytes(data)
    if categories:
        metadata = store.load_metadata(batch)
        for take in metadata["takes"]:
            number = int(take["line"].split("_")[1])
            if number in categories:
                take["category"] = categories[number]
        store.save_metadata(batch, metadata)
    return batch
