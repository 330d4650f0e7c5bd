"""Update an existing batch from an edited script, paying only for what changed.

`plan_sync` compares the script with the batch (`diff.diff_script`) and the pronunciation
dictionary with the entries each current take was made with (`pronunciations_used`); `run_sync`
then marks lines gone from the script removed, marks the takes of changed lines stale (their
ranks cleared, recorded), and makes takes for new and changed lines with the batch's settings
(its ranges, as many takes per line as the batch was made with). Unchanged lines, their ranks
and links are never touched. Nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import generation, store
from voicelab.engines import Engine
from voicelab.errors import BatchLocked
from voicelab.generation import PlannedTake, used_entries
from voicelab.lines.diff import ScriptDiff, diff_script, is_current
from voicelab.lines.marks import mark_removed, mark_stale
from voicelab.lines.plan import plan_line
from voicelab.pronunciation import Dictionary, substitute
from voicelab.script import Script
from voicelab.store.schema import Metadata


@dataclass(frozen=True)
class SyncPlan:
    """What a sync will do: the diff, and the takes it will make (new and changed lines)."""

    diff: ScriptDiff
    takes: list[PlannedTake]
    characters: int

    def summary(self) -> dict[str, Any]:
        """The plan as JSON: the counts, each changed line's old and new text, the cost."""
        return {**self.diff.counts(), "requests": len(self.takes), "takes": len(self.takes),
                "characters": self.characters,
                "new_lines": [line.function for line in self.diff.new],
                "changed_lines": [{"line": c.function, "old_text": c.old_text,
                                   "new_text": c.line.text, "why": c.reason}
                                  for c in self.diff.changed],
                "removed_lines": list(self.diff.removed)}

    def text(self) -> str:
        """The plan for people: counts, each changed line old -> new, the cost."""
        counts = self.diff.counts()
        rows = [f"{counts['new']} new, {counts['changed']} changed, {counts['removed']} removed, "
                f"{counts['unchanged']} unchanged line(s)"]
        rows += [f"  new      {line.function}: {line.text}" for line in self.diff.new]
        for change in self.diff.changed:
            why = {"text": "", "pronunciation": " (a pronunciation it uses changed)",
                   "stale": " (its takes are all stale)"}[change.reason]
            rows.append(f"  changed  {change.function}{why}: {change.old_text!r} -> "
                        f"{change.line.text!r}")
        rows += [f"  removed  {name}" for name in self.diff.removed]
        rows.append(f"cost: {len(self.takes)} take(s), {len(self.takes)} request(s), "
                    f"{self.characters} character(s)")
        return "\n".join(rows)


def pronunciation_words(metadata: Metadata, dictionary: Dictionary | None
                        ) -> dict[str, set[str]]:
    """Per line: the words whose entry changed since its current takes were made (an entry
    edited, added for a word the line uses, or dropped), from what each take recorded."""
    changed: dict[str, set[str]] = {}
    for take in metadata["takes"]:
        if not is_current(take):
            continue
        before = take.get("pronunciations_used") or {}
        now = used_entries(take["script_text"], dictionary)
        words = {word for word in before.keys() | now.keys()
                 if list(before.get(word) or []) != list(now.get(word) or [])}
        if words:
            changed.setdefault(take["line"], set()).update(words)
    return changed


def _takes_per_line(metadata: Metadata) -> int:
    params = metadata.get("generation_params") or {}
    variants = params.get("variants") or params.get("takes_per_line")
    if isinstance(variants, int) and variants > 0:
        return variants
    lines = {t["line"] for t in metadata["takes"]}
    return max(1, round(len(metadata["takes"]) / max(1, len(lines))))


def plan_sync(metadata: Metadata, script: Script, dictionary: Dictionary | None = None,
              job_id: str | None = None) -> SyncPlan:
    """What syncing `script` into the batch will do and cost (pure; see the module).

    A sync run again after it was stopped (same `job_id`) finishes the lines it had begun: a
    line holding fewer current takes of that run than the batch makes per line reads as
    unchanged to the diff, yet gets the takes it still lacks.
    """
    words = pronunciation_words(metadata, dictionary)
    diff = diff_script(metadata, script, changed_words={w for ws in words.values() for w in ws},
                       words_of=words)
    count = _takes_per_line(metadata)
    takes: list[PlannedTake] = []
    for line in diff.to_generate:
        takes += plan_line(metadata, line.function, line.text, count, line.category)
    texts = {line.function: line.text for line in script.lines}
    begun = Counter(t["line"] for t in metadata["takes"]
                    if job_id and t.get("job_id") == job_id and is_current(t))
    for function in diff.unchanged:
        if 0 < begun[function] < count:
            takes += plan_line(metadata, function, texts[function], count - begun[function])
    characters = sum(len(substitute(take.line.text, dictionary)) for take in takes)
    return SyncPlan(diff, takes, characters)


def run_id(script: Script, dictionary: Dictionary | None) -> str:
    """The job id of a sync run here and now: the same script and dictionary give the same id,
    so running an interrupted `voicelab sync` again finishes what it began (see plan_sync)."""
    body = json.dumps([[line.function, line.text] for line in script.lines]
                      + [dictionary.hash if dictionary else None])
    return "sync-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def run_sync(batch_dir: Path, script: Script, engine: Engine, *,
             dictionary: Dictionary | None = None, person: str = "cli", concurrency: int = 4,
             progress: Callable[[generation.Progress], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             job_id: str | None = None) -> tuple[SyncPlan, generation.GenerationResult]:
    """Apply the plan: removed and stale marks (recorded), then the new takes, each carrying
    `job_id` (by default `run_id`: a sync run again finishes what it began).

    Raises:
        BatchLocked: the batch is locked (a lead unlocks first). MetadataError, EngineError.
    """
    batch_dir = Path(batch_dir)
    if store.is_locked(batch_dir):
        raise BatchLocked(batch_dir.name)
    metadata = store.load_metadata(batch_dir)
    job_id = job_id or run_id(script, dictionary)
    plan = plan_sync(metadata, script, dictionary, job_id)
    if plan.diff.removed:
        mark_removed(batch_dir, plan.diff.removed, person=person)
    if plan.diff.changed:
        mark_stale(batch_dir, {c.function: c.old_text for c in plan.diff.changed}, person=person)
    result = generation.generate_takes(
        batch_dir, plan.takes, engine, model_id=metadata["generation_params"].get("model_id"),
        pronunciations=dictionary, concurrency=concurrency, progress=progress,
        should_stop=should_stop, person=person, job_id=job_id)
    return plan, result
