"""What an engine-ready export asks for (`DeliveryOptions`) and the checks it must pass first.

`check_options` refuses every bad value before anything is written, naming the field and the
value: an unknown preset or format, a loudness target above 0 LUFS, a bit depth other than
16/24 (and only for wav/flac), a sample rate outside 8000..192000, a naming template with an
unknown field or a path that would leave the export folder, a bad language code, or a broken
per-category loudness file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from voicelab.delivery import naming
from voicelab.delivery.base import FORMATS, DeliveryError, check_lufs, is_number
from voicelab.errors import InvalidRank

PRESETS = ("plain", "wwise", "unreal", "fmod")
BIT_DEPTHS = (16, 24)
SAMPLE_RATES = (8000, 192000)  # lowest, highest
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
TRUE_PEAK_RANGE = (-20.0, 0.0)
LANG_PATTERN = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}")
OPTION_FIELDS = ("rank", "format", "sample_rate", "bit_depth", "loudness", "true_peak",
                 "preset", "naming", "lang")
"""The options a JSON body or an export job sets (not `loudness_by_category`, a file on the
server, nor `make_zip`, the export's own choice)."""


@dataclass(frozen=True)
class DeliveryOptions:
    """One export's choices. All defaults: the classic export (MP3 copies and a manifest)."""

    rank: int = 1
    format: str | None = None  # None: as generated (mp3)
    sample_rate: int | None = None
    bit_depth: int | None = None  # 16 | 24 (wav/flac)
    loudness: float | None = None  # integrated LUFS target
    true_peak: float = -1.0  # dBTP ceiling
    loudness_by_category: Path | None = None  # small CSV: Category,LUFS
    naming: str | None = None  # template; None: the preset's
    preset: str = "plain"
    lang: str = "en"
    make_zip: bool = False


def is_classic(options: DeliveryOptions) -> bool:
    """Whether these options ask for nothing beyond the classic export (copies + manifest)."""
    return (options.format is None and options.sample_rate is None and options.bit_depth is None
            and options.loudness is None and options.loudness_by_category is None
            and options.naming is None and options.preset == "plain")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_options(options: DeliveryOptions) -> None:
    """Raise DeliveryError naming the first bad field and its value (InvalidRank for the rank).

    Reads the per-category loudness file, so its rows are checked too.
    """
    from voicelab.delivery import loudness  # numpy and scipy come with it: only when checking

    if not _whole(options.rank) or not 1 <= options.rank <= 5:
        raise InvalidRank(options.rank)
    if options.preset not in PRESETS:
        raise DeliveryError(f"preset: unknown preset {options.preset!r} "
                            f"(one of {', '.join(PRESETS)})")
    if options.format is not None and options.format not in FORMATS:
        raise DeliveryError(f"format: unknown format {options.format!r} "
                            f"(one of {', '.join(FORMATS)})")
    fmt = output_format(options)
    allowed = naming.PRESET_LAYOUTS[options.preset].formats
    if fmt not in allowed:
        raise DeliveryError(f"format: preset {options.preset} imports {' or '.join(allowed)}, "
                            f"not {fmt!r}")
    if options.sample_rate is not None and (
            not _whole(options.sample_rate)
            or not SAMPLE_RATES[0] <= options.sample_rate <= SAMPLE_RATES[1]):
        raise DeliveryError(f"sample_rate: {options.sample_rate!r} is not a whole number of Hz "
                            f"from {SAMPLE_RATES[0]} to {SAMPLE_RATES[1]}")
    if fmt == "mp3" and options.sample_rate is not None and options.sample_rate not in MP3_RATES:
        raise DeliveryError(f"sample_rate: mp3 takes {', '.join(map(str, MP3_RATES))} Hz, not "
                            f"{options.sample_rate}")
    if options.bit_depth is not None:
        if not _whole(options.bit_depth) or options.bit_depth not in BIT_DEPTHS:
            raise DeliveryError(f"bit_depth: {options.bit_depth!r} is not 16 or 24")
        if fmt not in ("wav", "flac"):
            raise DeliveryError(f"bit_depth: {options.bit_depth} is for wav or flac, not {fmt}")
    if options.loudness is not None:
        check_lufs("loudness", options.loudness)
    if not is_number(options.true_peak) or not (
            TRUE_PEAK_RANGE[0] <= options.true_peak <= TRUE_PEAK_RANGE[1]):
        raise DeliveryError(f"true_peak: {options.true_peak!r} is not a ceiling in dBTP from "
                            f"{TRUE_PEAK_RANGE[0]:g} to {TRUE_PEAK_RANGE[1]:g}")
    if not isinstance(options.lang, str) or not LANG_PATTERN.fullmatch(options.lang):
        raise DeliveryError(f"lang: {options.lang!r} is not a language code like en, fr or "
                            "en-US")
    if options.naming is not None:
        naming.check_template(options.naming, fmt)
    if not isinstance(options.make_zip, bool):
        raise DeliveryError(f"make_zip: {options.make_zip!r} is not true or false")
    if options.loudness_by_category is not None:
        loudness.read_category_targets(Path(options.loudness_by_category))


def output_format(options: DeliveryOptions) -> str:
    """The files' format: the one asked for, else the preset's (mp3 for plain: as generated)."""
    return options.format or naming.PRESET_LAYOUTS.get(options.preset,
                                                       naming.PRESET_LAYOUTS["plain"]).format
