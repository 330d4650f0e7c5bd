"""Rating panels (DESIGN decision 12): several raters rank one batch alone, blind by default;
the seed's `rank` and `ranked/` hold their consensus.

`changes` makes every change (open, rate, undo, override, close, reopen) under the batch lock
with one history entry; `consensus` is the rank aggregation and agreement (pure); `views` is
what each person may see (blind order, opaque ids, the consensus report).
"""

from voicelab.panel.changes import (
    MAX_RATERS,
    PANEL_NAME,
    check_rater_people,
    check_raters,
    close_line,
    line_state,
    open_panel,
    override,
    panel_of,
    panel_problems,
    rate,
    reopen_line,
    undo,
)
from voicelab.panel.views import (
    blind_lines,
    consensus_report,
    disagreements,
    progress,
    rater_metadata,
    resolve_blind,
    view_mode,
)

__all__ = [
    "MAX_RATERS",
    "PANEL_NAME",
    "blind_lines",
    "check_rater_people",
    "check_raters",
    "close_line",
    "consensus_report",
    "disagreements",
    "line_state",
    "open_panel",
    "override",
    "panel_of",
    "panel_problems",
    "progress",
    "rate",
    "rater_metadata",
    "reopen_line",
    "resolve_blind",
    "undo",
    "view_mode",
]
