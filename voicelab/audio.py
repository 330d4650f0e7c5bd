"""MP3 encoding and decoding of mono float samples (lameenc and libsndfile, no ffmpeg)."""

from __future__ import annotations

import io

import lameenc
import numpy as np
import soundfile


def encode_mp3(samples: np.ndarray, sample_rate: int, bitrate_kbps: int = 128) -> bytes:
    """Encode mono float samples in [-1, 1] as a constant-bitrate MP3."""
    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(5)  # 2.7x faster than 2 at the same bitrate
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def decode_mp3(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a whole MP3 to mono float32 samples (whole-file reads only: chunked ones corrupt)."""
    samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(sample_rate)
