"""anywidget widgets (Python class + .js + .css side by side) and the dashboards' views."""

from __future__ import annotations

from voicelab.widgets.rank_board import RankBoard

__all__ = ["RankBoard"]
