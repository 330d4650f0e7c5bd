"""A small player for a handful of takes held in memory (audition grids in explore.ipynb).

Plays in JupyterLab, Notebook 7 and Voila without any /audio route: the MP3 bytes travel with
the widget as binary buffers. One take plays at a time; switching keeps the position, as
listening tests do, so takes can be compared on the same word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

_HERE = Path(__file__).parent


class TakePlayer(anywidget.AnyWidget):
    """Play buttons, labels and facts for a list of takes; `audio` holds their MP3 bytes."""

    _esm = _HERE / "take_player.js"
    _css = _HERE / "take_player.css"
    takes = traitlets.List(traitlets.Dict()).tag(sync=True)
    """One dict per take: label (str) and facts (str) shown beside its play button."""
    audio = traitlets.List(traitlets.Bytes()).tag(sync=True)
    """The MP3 bytes of each take, in the order of `takes`."""

    def __init__(self, items: list[tuple[str, str, bytes]], **kwargs: Any) -> None:
        super().__init__(takes=[{"label": label, "facts": facts} for label, facts, _ in items],
                         audio=[mp3 for _, _, mp3 in items], **kwargs)
