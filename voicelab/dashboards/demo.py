"""A small Piper demo batch, so a first `voicelab serve` has takes to rank."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from voicelab import store
from voicelab.config import Settings
from voicelab.engines import get_engine
from voicelab.generation import generate
from voicelab.jobspec import parse_config
from voicelab.script import parse_script

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEMO_SCRIPT = REPO / "examples" / "scripts" / "knight_30_lines.csv"
DEMO_SKIN = "Demo"
DEMO_LINES = 4
DEMO_VARIANTS = 3


def demo_config(script: Path = DEMO_SCRIPT, lines: int = DEMO_LINES,
                variants: int = DEMO_VARIANTS) -> dict[str, object]:
    """The job config (API body shape) of the demo: the first `lines` lines of `script`.

    Stability is spread over the takes, so the takes of a line differ audibly.

    Raises:
        ScriptError: the script cannot be read or is invalid.
    """
    parsed = parse_script(script)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["Function", "Line"])
    writer.writerows((line.function, line.text) for line in parsed.lines[:lines])
    return {"skin_name": DEMO_SKIN, "voice_ids": [], "variants": variants, "engine": "piper",
            "script_csv": text.getvalue(), "script_name": script.name,
            "settings": {"stability": [0.3, 0.8]}}


def ensure_demo_batch(settings: Settings, script: Path = DEMO_SCRIPT) -> str | None:
    """Generate the demo batch with Piper when AUDIO_ROOT holds no batch; return its id.

    Returns None, doing nothing, when any valid batch exists already.

    Raises:
        ScriptError: the demo script is missing or invalid.
        EngineError: Piper cannot speak (e.g. its bundled voice is broken).
    """
    if store.find_batches(settings.audio_root):
        return None
    engine = get_engine("piper", settings)
    raw = demo_config(script)
    raw["voice_ids"] = [engine.voices()[0].id]
    config = parse_config(raw, default_engine="piper")
    log.info("no batches under %s: generating a demo batch (%d takes) with Piper",
             settings.audio_root, len(config.script.lines) * config.variants)
    result = generate(config, settings.audio_root, engine, concurrency=settings.concurrency)
    return result.batch_ids[0]
