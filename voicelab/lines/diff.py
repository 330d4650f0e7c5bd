"""How a dialogue script differs from a batch, line by line (pure; docs/design.md, decision 13).

Lines are matched by `Function`. A batch's line is *current* when at least one of its takes is
neither stale nor removed; its text is the `script_text` of those takes. Against a script:

- **unchanged**: the script has the line with the same text (and no pronunciation it uses
  changed, when the caller says which words changed);
- **new**: the script has a line the batch has no current take of (never seen, or removed
  earlier: a returning line gets new takes; its removed ones stay removed);
- **changed**: the text differs, or a pronunciation it uses changed, or every take of the line
  is stale (an earlier sync marked them and no new take landed yet);
- **removed**: the batch has the line current and the script does not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voicelab.script import Script, ScriptLine
from voicelab.store.schema import Metadata

Take = Mapping[str, Any]


def is_current(take: Take) -> bool:
    """Whether a take counts: not stale, not removed (only those are shown and exported)."""
    return not take.get("stale") and not take.get("removed")


def current_texts(metadata: Metadata) -> dict[str, str | None]:
    """Every line the batch still has (not removed), in take order: its current text, or None
    when every take of it is stale."""
    texts: dict[str, str | None] = {}
    for take in metadata["takes"]:
        if take.get("removed"):
            continue
        if is_current(take):
            texts[take["line"]] = take["script_text"]
        else:
            texts.setdefault(take["line"], None)
    return texts


@dataclass(frozen=True)
class Changed:
    """A line whose takes go stale: its text in the batch (None: all stale already) and now."""

    function: str
    old_text: str | None
    line: ScriptLine
    reason: str = "text"
    """Why: "text" (it changed), "pronunciation" (a word's entry changed) or "stale"."""


@dataclass(frozen=True)
class ScriptDiff:
    """What `sync` would do: lines to generate (new and changed), to mark, and to leave."""

    new: list[ScriptLine] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def to_generate(self) -> list[ScriptLine]:
        """The script lines that get new takes, in script order."""
        return [*self.new, *(change.line for change in self.changed)]

    def counts(self) -> dict[str, int]:
        """How many lines fall in each kind."""
        return {"new": len(self.new), "changed": len(self.changed),
                "removed": len(self.removed), "unchanged": len(self.unchanged)}

    @property
    def empty(self) -> bool:
        """Nothing to do: every line unchanged."""
        return not (self.new or self.changed or self.removed)


def diff_script(metadata: Metadata, script: Script,
                changed_words: Collection[str] = (),
                words_of: Mapping[str, Iterable[str]] | None = None) -> ScriptDiff:
    """Compare `script` with the batch's current lines (see the module for the kinds).

    `changed_words` are pronunciation entries that changed since the batch's takes were made;
    `words_of` maps a line's Function to the entries its text uses. A line using a changed word
    is changed even when its text is the same.
    """
    texts = current_texts(metadata)
    changed_set = {word.casefold() for word in changed_words}
    result = ScriptDiff()
    seen = set()
    for line in script.lines:
        seen.add(line.function)
        if line.function not in texts:
            result.new.append(line)
            continue
        old = texts[line.function]
        uses = {word.casefold() for word in (words_of or {}).get(line.function, ())}
        if old is None:
            result.changed.append(Changed(line.function, None, line, "stale"))
        elif old != line.text:
            result.changed.append(Changed(line.function, old, line, "text"))
        elif uses & changed_set:
            result.changed.append(Changed(line.function, old, line, "pronunciation"))
        else:
            result.unchanged.append(line.function)
    result.removed.extend(function for function in texts if function not in seen)
    return result
