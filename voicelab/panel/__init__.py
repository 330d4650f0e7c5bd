"""Rating panels (docs/design.md, decision 12): several raters rank one batch alone, blind by
default; the seed's `rank` and `ranked/` hold their consensus.

`changes` makes every change (open, rate, undo, override, close, reopen) under the batch lock
with one history entry; `consensus` is the rank aggregation and agreement (pure); `views` is
what each person may see (blind order, opaque ids, the consensus report); `blind` is the one
rule of what a rater's view of a take holds, which the API and the board both use.
"""

from voicelab.panel.blind import (
    RATER_MODES,
    BlindSeat,
    hidden_names,
    rank_fields,
    rater_actions,
    rater_metadata,
    rater_take,
    rater_views,
    unnamed,
)
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
    resolve_blind,
    view_mode,
)

__all__ = [
    "MAX_RATERS",
    "PANEL_NAME",
    "RATER_MODES",
    "BlindSeat",
    "blind_lines",
    "check_rater_people",
    "check_raters",
    "close_line",
    "consensus_report",
    "disagreements",
    "hidden_names",
    "line_state",
    "open_panel",
    "override",
    "panel_of",
    "panel_problems",
    "progress",
    "rank_fields",
    "rate",
    "rater_actions",
    "rater_metadata",
    "rater_take",
    "rater_views",
    "reopen_line",
    "resolve_blind",
    "undo",
    "unnamed",
    "view_mode",
]
