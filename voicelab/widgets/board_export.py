"""A batch's takes leaving the ranking board: one take's MP3 bytes (for a browser that cannot
fetch /audio/), and the selects of a locked batch as a zip (`voicelab.delivery`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from voicelab import store
from voicelab.errors import RankError, UnknownTake
from voicelab.widgets.board_base import BoardBase

EXPORT_FORMATS = ("wav",)
"""The formats "Export selects…" offers besides "as generated" (the takes' MP3)."""


def export_presets() -> list[dict[str, Any]]:
    """The delivery presets the board's export offers (`export_presets` trait): name, naming
    layout, default format and the formats the preset's tool imports."""
    from voicelab.delivery import naming

    return [{"name": name, "layout": layout.template, "format": layout.format,
             "formats": list(layout.formats)} for name, layout in naming.PRESET_LAYOUTS.items()]


class ExportActions(BoardBase):
    """The audio and export actions of `RankBoard` (see the module)."""

    def audio_bytes(self, filename: str) -> bytes:
        """The MP3 bytes of one take of this batch (for browsers that cannot fetch /audio/),
        by its key on the board (in blind mode, the opaque id: never the file name).

        Raises:
            UnknownTake: `filename` is not a take of this board, or its file is missing.
        """
        file = self._file(filename)
        try:
            return (self._batch_dir / store.TAKES_DIR / file).read_bytes()
        except OSError as exc:
            raise UnknownTake(str(filename)) from exc

    def export_zip(self, rank: object = 1, preset: object = "plain",
                   audio_format: object = None) -> tuple[str, bytes, list[str]]:
        """The takes ranked `rank` of a locked batch as a zip (voicelab.delivery.deliver): (file
        name, bytes, lines missing a take). `preset` (plain, wwise, unreal, fmod) names and lays
        out the files as that tool imports them; `audio_format` is None (as generated: MP3) or
        "wav".
        The plain preset as generated is the classic export (MP3 copies and a manifest).

        Raises:
            RankError: the batch is not locked yet (selects may still change).
            InvalidRank: `rank` is not 1-5.
            DeliveryError: an unknown preset or format, or one the preset's tool does not
                import (e.g. MP3 for Wwise).
        """
        from voicelab.delivery.deliver import deliver
        from voicelab.delivery.options import DeliveryError, DeliveryOptions

        if not store.is_locked(self._batch_dir):
            raise RankError("lock the batch before exporting its selects")
        if audio_format not in (None, *EXPORT_FORMATS):
            raise DeliveryError(f"format: {audio_format!r} is not one the board offers (as "
                                f"generated, {', '.join(EXPORT_FORMATS)})")
        if not isinstance(preset, str):
            raise DeliveryError(f"preset: {preset!r} is not a preset's name")
        fmt = audio_format if audio_format is not None or preset == "plain" else "mp3"
        options = DeliveryOptions(rank=rank, preset=preset, format=fmt,  # type: ignore[arg-type]
                                  make_zip=True)
        with tempfile.TemporaryDirectory() as tmp:
            result = deliver(self._batch_dir, Path(tmp), options)
            assert result.archive is not None
            return result.archive.name, result.archive.read_bytes(), result.missing
