"""Audio quality facts per take, measured from the PCM before MP3 encoding, and flags per line.

`measure` gives the additive per-take fields that metadata.json carries (docs/design.md, decision
6); `flag_takes` compares the takes of one line so the ranking board can point at broken takes
before anyone listens; `loudness_gain_db` lets playback match loudness between takes.
"""

from __future__ import annotations

import base64
import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

CLIP_LEVEL = 0.999
"""A sample at or above this magnitude counts as clipped."""
CLIP_FLAG_MIN = 3
"""Clipped samples needed for the "clipping" flag: one full-scale peak is not audible clipping."""
SILENCE_DBFS = -50.0
"""A frame whose RMS is below this level is silent."""
FRAME_S = 0.01
"""Frame length for the silence measure."""
MOSTLY_SILENCE_RATIO = 0.6
"""A take whose silent frames exceed this share of its duration is flagged "mostly_silence"."""
OUTLIER_LOW, OUTLIER_HIGH = 0.6, 1.6
"""Bounds, as multiples of the median duration of the line's other takes, outside which a take
is flagged "duration_outlier" (only for lines of 3 takes or more: with 2 no one is the odd one)."""
PEAKS_POINTS = 100
"""Length of the waveform overview: enough for a row of the ranking board, small in metadata."""
GAIN_LIMIT_DB = 12.0
PEAK_CEILING_DBFS = -1.0

WORDS_WER_MAX = 0.7
"""A take whose speech check heard a word error rate above this is flagged "words" (it may not
say its line). Chosen from PocketSphinx on Piper takes: see docs/speech-check.md."""

FLAGS = ("clipping", "mostly_silence", "duration_outlier", "words")


def _dbfs(amplitude: float) -> float | None:
    return round(20.0 * math.log10(amplitude), 2) if amplitude > 0 else None


def _silent_frames(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """One bool per FRAME_S frame (the last one may be shorter): True when its RMS is silent."""
    frame = max(1, int(sample_rate * FRAME_S))
    count = -(-len(samples) // frame)
    padded = np.zeros(count * frame, dtype=np.float64)
    padded[: len(samples)] = samples
    sums = np.square(padded).reshape(count, frame).sum(axis=1)
    sizes = np.full(count, frame, dtype=np.float64)
    sizes[-1] = len(samples) - frame * (count - 1)
    threshold = 10.0 ** (SILENCE_DBFS / 10.0)  # compare mean squares, no log per frame
    return np.asarray(sums / sizes < threshold)


def _lufs(samples: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness (ITU-R BS.1770); None when shorter than one 400 ms block or silent.

    pyloudnorm is imported here: it pulls in scipy.signal (about 1.3 s), which a dashboard
    kernel that only shows measured takes never needs."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sample_rate)  # a Meter keeps per-call state: one per measure
    if len(samples) <= int(meter.block_size * sample_rate):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(meter.integrated_loudness(samples))
    return round(value, 2) if math.isfinite(value) else None


def peaks(samples: np.ndarray, points: int = PEAKS_POINTS) -> str:
    """A waveform overview: the max |sample| of `points` equal slices, as 0-255 bytes in base64.

    Compact on purpose (136 characters for 100 points): metadata.json is rewritten on every
    rank change, and a list of floats per take made a 2,000-take batch's file megabytes long.
    """
    magnitude = np.abs(np.asarray(samples, dtype=np.float32))
    if magnitude.size == 0:
        return ""
    edges = np.linspace(0, magnitude.size, min(points, magnitude.size) + 1).astype(int)
    pooled = np.maximum.reduceat(magnitude, edges[:-1])
    return base64.b64encode(np.clip(np.rint(pooled * 255), 0, 255).astype(np.uint8)).decode()


def peak_values(stored: str | list[float] | None) -> np.ndarray:
    """The overview as floats in 0-1, from `peaks`' base64 (or an older list of floats)."""
    if not stored:
        return np.zeros(0)
    if isinstance(stored, str):
        return np.frombuffer(base64.b64decode(stored), dtype=np.uint8) / 255.0
    return np.abs(np.asarray(stored, dtype=np.float64))


def measure(samples: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Quality facts of one take's mono samples in [-1, 1]; plain JSON values only.

    Fields: duration_s, peak_dbfs (None when silent), clipped_samples, leading_silence_s,
    trailing_silence_s (a silent take is all leading and all trailing silence), silence_ratio
    (share of silent 10 ms frames, pauses included), lufs (None when silent or under 0.4 s),
    peaks (see `peaks`).

    Raises:
        ValueError: samples are not one-dimensional or the sample rate is not positive.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim != 1 or sample_rate <= 0:
        raise ValueError(f"need mono samples at a positive rate, got {data.shape} at {sample_rate}")
    duration = len(data) / sample_rate
    if data.size == 0:
        return {"duration_s": 0.0, "peak_dbfs": None, "clipped_samples": 0,
                "leading_silence_s": 0.0, "trailing_silence_s": 0.0, "silence_ratio": 1.0,
                "lufs": None, "peaks": ""}
    magnitude = np.abs(data)
    silent = _silent_frames(data, sample_rate)
    voiced = np.flatnonzero(~silent)
    frame_s = max(1, int(sample_rate * FRAME_S)) / sample_rate
    if voiced.size:
        leading = min(duration, float(voiced[0]) * frame_s)
        trailing = max(0.0, duration - float(voiced[-1] + 1) * frame_s)
    else:
        leading = trailing = duration
    return {
        "duration_s": round(duration, 3),
        "peak_dbfs": _dbfs(float(magnitude.max())),
        "clipped_samples": int(np.count_nonzero(magnitude >= CLIP_LEVEL)),
        "leading_silence_s": round(leading, 3),
        "trailing_silence_s": round(trailing, 3),
        "silence_ratio": round(float(silent.mean()), 3),
        "lufs": _lufs(data, sample_rate),
        "peaks": peaks(data),
    }


def _facts(take: Mapping[str, Any]) -> Mapping[str, Any]:
    """measure()'s fields of a take: its own, with those nested under "quality" winning."""
    nested = take.get("quality")
    return {**take, **nested} if isinstance(nested, Mapping) else take


def _own_flags(facts: Mapping[str, Any]) -> list[str]:
    flags = []
    if (facts.get("clipped_samples") or 0) >= CLIP_FLAG_MIN:
        flags.append("clipping")
    silent = ("peak_dbfs" in facts and facts["peak_dbfs"] is None) or facts.get("duration_s") == 0
    if silent or (facts.get("silence_ratio") or 0.0) > MOSTLY_SILENCE_RATIO:
        flags.append("mostly_silence")
    speech = facts.get("speech")
    if isinstance(speech, Mapping) and (speech.get("wer") or 0.0) > WORDS_WER_MAX:
        flags.append("words")
    return flags


def flag_takes(takes_of_line: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Flags for each take of one line, in order, from `measure`'s fields (missing ones: no flag).

    Each item is a `measure` dict or a take record holding those fields at its top level and/or
    under "quality" (metadata.json's shape).

    "clipping": at least CLIP_FLAG_MIN clipped samples. "mostly_silence": silent, or more than
    MOSTLY_SILENCE_RATIO of the take is silent frames. "duration_outlier": the line has 3 takes
    or more and this one lasts under OUTLIER_LOW or over OUTLIER_HIGH times the median of the
    others. "words": the speech check (voicelab.speech) heard a word error rate above
    WORDS_WER_MAX (under "speech"). (lufs is not used: it is also None for takes shorter than
    0.4 s, which are fine.)
    """
    facts = [_facts(take) for take in takes_of_line]
    flags = [_own_flags(f) for f in facts]
    durations = [f.get("duration_s") for f in facts]
    if len(facts) >= 3:
        for i, duration in enumerate(durations):
            others = [d for j, d in enumerate(durations) if j != i and d]
            if duration is None or len(others) < 2:
                continue
            median = statistics.median(others)
            if not OUTLIER_LOW * median <= duration <= OUTLIER_HIGH * median:
                flags[i].append("duration_outlier")
    return flags


def flag_batch(takes: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Flags for every take of a batch, in order, comparing each take with its line's ("line")."""
    by_line: dict[object, list[int]] = {}
    for i, take in enumerate(takes):
        by_line.setdefault(take.get("line"), []).append(i)
    flags: list[list[str]] = [[] for _ in takes]
    for indexes in by_line.values():
        for i, take_flags in zip(indexes, flag_takes([takes[i] for i in indexes]), strict=True):
            flags[i] = take_flags
    return flags


def loudness_gain_db(
    lufs: float | None, target: float = -23.0, peak_dbfs: float | None = None
) -> float:
    """The playback gain (dB) that brings a take to `target` LUFS; 0.0 when loudness is unknown.

    Clamped to +/-GAIN_LIMIT_DB, and, when the peak is known, never so high that the peak would
    pass PEAK_CEILING_DBFS (a boost must not clip in the player).
    """
    if lufs is None or not math.isfinite(lufs):
        return 0.0
    gain = min(GAIN_LIMIT_DB, max(-GAIN_LIMIT_DB, target - lufs))
    if peak_dbfs is not None:
        gain = min(gain, PEAK_CEILING_DBFS - peak_dbfs)
    return round(gain, 2)
