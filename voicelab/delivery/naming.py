"""File names of an export: templates with `{field}`s, and the presets of the audio tools.

A template is the path of one file inside the export folder, without its extension (the format
adds it), and may hold `/` for folders. Fields:

- `{skin}`, `{voice}`: the batch's skin and voice names, made file-system safe;
- `{function}`: the line's Function (its id in the script);
- `{line}`: the line's place in the script among the exported batch's lines, `001`, `002`...;
- `{take}`: the chosen take's number; `{rank}`: the exported rank; `{lang}`: `--lang`.

Presets (`PRESET_LAYOUTS`) set the template and the default format each tool imports:

- plain: `{function}` (today's `<Function>.mp3`, as generated);
- unreal: `{lang}/{function}`: Unreal's dialogue import reads a raw-audio folder holding one
  sub-folder per culture, each with the WAV files;
- wwise: `Voices/{lang}/{function}`: Wwise keeps localized voice originals under
  `Originals/Voices/<Language>/` and matches a sound's languages by the same file name;
- fmod: `{lang}/{skin}_{function}`: one folder per locale for FMOD's localized audio tables,
  whose keys are the file names without extension.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voicelab.delivery.base import FORMATS, DeliveryError

FIELDS = ("skin", "voice", "function", "line", "take", "rank", "lang")
_PART = re.compile(r"[A-Za-z0-9_()+=,@ -][A-Za-z0-9_.()+=,@ -]*")
_RESERVED = {"manifest.csv", "dialogue.csv", "dialogue.xlsx"}


@dataclass(frozen=True)
class Layout:
    """A preset: its naming template, its default format and the formats the tool imports."""

    template: str
    format: str
    formats: tuple[str, ...]


PRESET_LAYOUTS: dict[str, Layout] = {
    "plain": Layout("{function}", "mp3", FORMATS),
    "unreal": Layout("{lang}/{function}", "wav", ("wav", "flac", "ogg")),
    "wwise": Layout("Voices/{lang}/{function}", "wav", ("wav",)),
    "fmod": Layout("{lang}/{skin}_{function}", "wav", FORMATS),
}


def template_fields(template: str) -> list[str]:
    """The field names a template uses, or DeliveryError for an unknown field or bad braces."""
    if not isinstance(template, str) or not template.strip():
        raise DeliveryError(f"naming: {template!r} is not a template (e.g. '{{lang}}/"
                            "{function}')")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DeliveryError(f"naming: {template!r}: {exc}") from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS:
            raise DeliveryError(f"naming: unknown field {{{name}}} in {template!r} (fields: "
                                + " ".join(f"{{{f}}}" for f in FIELDS) + ")")
        if conversion or "{" in (spec or ""):
            raise DeliveryError(f"naming: {{{name}}} in {template!r}: only plain fields and "
                                "format specs such as {take:02d}")
        names.append(name)
    return names


def check_template(template: str, fmt: str) -> None:
    """Refuse a template that cannot name files safely (before any file is read)."""
    names = template_fields(template)
    if "function" not in names and "line" not in names:
        raise DeliveryError(f"naming: {template!r} has neither {{function}} nor {{line}}: every "
                            "line would get the same file name")
    last = template.rsplit("/", 1)[-1].lower()
    if any(last.endswith(f".{ext}") for ext in FORMATS):
        raise DeliveryError(f"naming: {template!r} ends in an extension; leave it out, the "
                            f"format adds it (.{fmt})")
    sample = render(template, {"skin": "Skin", "voice": "Voice-v1", "function": "Line_1",
                               "line": 1, "take": 1, "rank": 1, "lang": "en"}, fmt)
    check_path(sample, template)


def render(template: str, values: Mapping[str, object], fmt: str) -> str:
    """The relative path of one file: the template filled in, plus `.fmt`."""
    try:
        stem = template.format_map({k: values[k] for k in FIELDS})
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"naming: {template!r}: {exc}") from None
    return f"{stem}.{fmt}"


def check_path(path: str, template: str) -> None:
    """Refuse a rendered path that is absolute, leaves the folder, hides or has unsafe names."""
    if path.startswith("/") or "\\" in path:
        raise DeliveryError(f"naming: {template!r} gives {path!r}, a path outside the export "
                            "folder (absolute, or with a backslash)")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise DeliveryError(f"naming: {template!r} gives {path!r}, a path outside the "
                                "export folder or with an empty folder name")
        if not _PART.fullmatch(part) or part != part.strip():
            raise DeliveryError(f"naming: {template!r} gives {path!r}: {part!r} is not a safe "
                                "file name (letters, digits, _ - . ( ) and inner spaces; "
                                "no leading dot)")
    if path.lower() in _RESERVED:
        raise DeliveryError(f"naming: {template!r} gives {path!r}, the name of the sheet or "
                            "manifest")


def name_files(template: str, rows: Sequence[Mapping[str, object]], fmt: str) -> list[str]:
    """One relative path per row (rows carry FIELDS); DeliveryError when a path is unsafe or
    two lines would share a file name (compared ignoring case, as macOS and Windows do)."""
    paths: list[str] = []
    seen: dict[str, object] = {}
    for row in rows:
        path = render(template, row, fmt)
        check_path(path, template)
        key = path.lower()
        if key in seen:
            raise DeliveryError(f"naming: {template!r} gives lines {seen[key]} and "
                                f"{row['function']} the same file name {path!r}")
        seen[key] = row["function"]
        paths.append(path)
    return paths
