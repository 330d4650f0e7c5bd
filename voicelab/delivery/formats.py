"""Audio in and out of an export: decode a take, resample it, encode it in the asked format.

MP3 takes decode through libsndfile (soundfile); resampling is soxr at "VHQ"; wav, flac and
ogg (Vorbis) are written by soundfile, mp3 by `voicelab.audio.encode_mp3` (lameenc).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile
import soxr

from voicelab.audio import decode_mp3, encode_mp3
from voicelab.delivery.base import DeliveryError

RESAMPLE_QUALITY = "VHQ"
DEFAULT_BIT_DEPTH = 16
_SUBTYPES = {16: "PCM_16", 24: "PCM_24"}
_CONTAINERS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG"}
MP3_KBPS = 192


def decode(path: Path) -> tuple[np.ndarray, int]:
    """A take as mono float32 samples and its rate; DeliveryError naming an undecodable file."""
    try:
        return decode_mp3(Path(path).read_bytes())
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise DeliveryError(f"cannot decode take {Path(path).name}: {exc}") from None


def resample(samples: np.ndarray, rate: int, new_rate: int | None) -> tuple[np.ndarray, int]:
    """The samples at `new_rate` (None or the same rate: unchanged)."""
    if new_rate is None or new_rate == rate:
        return samples, rate
    out = soxr.resample(np.asarray(samples, dtype=np.float32), rate, new_rate,
                        quality=RESAMPLE_QUALITY)
    return np.asarray(out, dtype=np.float32), new_rate


def encode(samples: np.ndarray, rate: int, fmt: str, bit_depth: int | None = None) -> bytes:
    """The samples as a file of format `fmt` (wav and flac at `bit_depth`, 16 by default).

    Samples are clipped to [-1, 1] first: libsndfile wraps overs when it converts to integers.
    """
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if fmt == "mp3":
        return encode_mp3(clipped, rate, MP3_KBPS)
    buffer = io.BytesIO()
    if fmt == "ogg":
        soundfile.write(buffer, clipped, rate, format="OGG", subtype="VORBIS")
    else:
        soundfile.write(buffer, clipped, rate, format=_CONTAINERS[fmt],
                        subtype=_SUBTYPES[bit_depth or DEFAULT_BIT_DEPTH])
    return buffer.getvalue()
