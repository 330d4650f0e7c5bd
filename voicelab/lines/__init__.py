"""A batch's lines over time (docs/design.md, decision 13): how a script differs from a batch, and
the marks a line's takes carry (stale, removed) and its director note.

`diff` compares a script with a batch (pure); `marks` makes the changes under the batch lock
with one history entry per line. Nothing here deletes a take.
"""

from voicelab.lines.diff import Changed, ScriptDiff, current_texts, diff_script, is_current
from voicelab.lines.marks import NOTE_LIMIT, check_note, mark_removed, mark_stale, set_note

__all__ = [
    "NOTE_LIMIT",
    "Changed",
    "ScriptDiff",
    "check_note",
    "current_texts",
    "diff_script",
    "is_current",
    "mark_removed",
    "mark_stale",
    "set_note",
]
