"""What the delivery modules share, below all of them: the error a bad export option raises, the
formats an export writes, and a loudness target's range and check.

`options` checks a whole export with `naming`'s templates and `loudness`'s category file, and
both of those refuse their own values with the same error, so it lives here, beneath the three.
"""

from __future__ import annotations

from voicelab.errors import VoicelabError

FORMATS = ("wav", "flac", "mp3", "ogg")
LUFS_RANGE = (-70.0, 0.0)


class DeliveryError(VoicelabError):
    """Raised when an export's options or its destination cannot be used (nothing is written)."""


def is_number(value: object) -> bool:
    """An int or a float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_lufs(field: str, value: object) -> float:
    """`value` as a loudness target in LUFS, or DeliveryError naming `field`."""
    if not is_number(value) or value != value:  # NaN is not a target
        raise DeliveryError(f"{field}: {value!r} is not a number of LUFS")
    target = float(value)  # type: ignore[arg-type]
    if target > LUFS_RANGE[1]:
        raise DeliveryError(f"{field}: {target:g} LUFS is above 0 LUFS (full scale); targets "
                            "are negative, e.g. -16 or -23")
    if target < LUFS_RANGE[0]:
        raise DeliveryError(f"{field}: {target:g} LUFS is below {LUFS_RANGE[0]:g} LUFS, the "
                            "silence gate")
    return target
