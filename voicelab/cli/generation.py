"""Making takes: `generate`, `more`, `sync`, `check` and `voices`, and the generation flags
`submit` shares."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from voicelab.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    AddCommand,
    err,
    out,
    progress_bar,
    wait_for_job,
)
from voicelab.config import Settings
from voicelab.engines import ENGINES
from voicelab.errors import BatchLocked, VoicelabError

if TYPE_CHECKING:
    from voicelab.speech.check import CheckSummary

NO_CHECK_HELP = ("do not hear the new takes afterwards (the speech check that flags wrong words; "
                 "voicelab check does it later)")


def _range(text: str) -> float | list[float]:
    """`0.5` or `0.3:0.7` -> a number or a [min, max] pair."""
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or MIN:MAX, not {text!r}") from None
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected a number or MIN:MAX, not {text!r}")
    return parts[0] if len(parts) == 1 else parts


def add_generation_flags(parser: argparse.ArgumentParser) -> None:
    """The flags `generate` and `submit` share: they describe one job config."""
    parser.add_argument("script", type=Path, help="dialogue script CSV (Function, Line)")
    parser.add_argument("--skin", required=True, help="skin name")
    parser.add_argument("--voice", action="append", required=True, dest="voices",
                        metavar="ID", help="voice id (repeat for several voices)")
    parser.add_argument("--variants", type=int, default=1, help="takes per line (1-20)")
    parser.add_argument("--engine", choices=list(ENGINES),
                        help="default: elevenlabs when ELEVENLABS_API_KEY is set, else piper")
    parser.add_argument("--model", help="model id, for engines that have models (default: "
                        + ", ".join(f"{name} {engine.default_model}" for name, engine
                                    in ENGINES.items() if engine.default_model) + ")")
    for name in ("stability", "similarity", "style", "speed"):
        parser.add_argument(f"--{name}", type=_range, metavar="A[:B]",
                            help=f"{name} value or range to spread takes over")
    parser.add_argument("--speaker-boost", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, help="base seed (each take gets its own from it)")
    parser.add_argument("--lang", help="the script's language code (default en; the speech "
                        "check hears English only)")


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The job config (API body shape) the generation flags describe."""
    names = {"stability": "stability", "similarity": "similarity_boost", "style": "style",
             "speed": "speed"}
    settings: dict[str, Any] = {key: getattr(args, flag) for flag, key in names.items()
                                if getattr(args, flag) is not None}
    settings["use_speaker_boost"] = args.speaker_boost
    config: dict[str, Any] = {"skin_name": args.skin, "voice_ids": args.voices,
                              "variants": args.variants, "script_path": str(args.script.resolve()),
                              "script_name": args.script.name, "settings": settings}
    for key, value in (("engine", args.engine), ("model_id", args.model), ("seed", args.seed),
                       ("lang", args.lang)):
        if value is not None:
            config[key] = value
    return config


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab generate`: run the job in this process and print one batch id per voice.

    Exit 0 when every take was made, 2 when some failed; `--dry-run` prints the estimate, exit 0.
    """
    from voicelab import generation, jobspec
    from voicelab.engines import get_engine

    config = jobspec.parse_config(config_from_args(args), default_engine=settings.default_engine,
                                  settings=settings)
    if args.dry_run:
        out.print_json(data=jobspec.estimate(config))
        return EXIT_OK
    engine = get_engine(config.engine, settings)
    with progress_bar() as bar:
        task = bar.add_task("generating", total=None, failed=0)

        def show(p: generation.Progress) -> None:
            bar.update(task, total=p.total, completed=p.done + p.failed, failed=p.failed,
                       description=f"generating {p.current}".rstrip())

        result = generation.generate(config, settings.audio_root, engine,
                                     concurrency=args.concurrency or settings.concurrency,
                                     progress=show)
    hear_new_takes(args, settings, result.batch_dirs)
    for batch_id in result.batch_ids:
        out.print(batch_id)
    for failure in result.failed:
        err.print(f"failed: {failure['file']}: {failure['reason']}")
    return EXIT_OK if result.complete else EXIT_PARTIAL


def cmd_voices(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab voices`: the voices of `--engine`, or of every available engine; exit 0."""
    from voicelab.engines import available_engines, get_engine

    names = [args.engine] if args.engine else available_engines(settings)
    voices = [v for name in names for v in get_engine(name, settings).voices()]
    if args.json:
        out.print_json(data=[{"id": v.id, "name": v.name, "engine": v.engine,
                              "category": v.category, "notes": v.notes} for v in voices])
        return EXIT_OK
    table = Table("engine", "id", "name", "category", "notes")
    for v in voices:
        table.add_row(v.engine, v.id, v.name, v.category, v.notes)
    out.print(table)
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab check`: hear a batch's takes (those not heard yet, or all with `--force`),
    store the word error rate against their lines and flag the takes above the threshold.

    Prints takes checked, flagged and the mean WER (`--json`: the summary); exit 0, even when
    takes are flagged; 2 when some take could not be heard; 1 for a bad batch or recogniser.
    """
    from voicelab import store

    summary = hear_takes(settings, store.find_batch(settings.audio_root, args.batch_id),
                         force=args.force, workers=args.workers)
    if args.json:
        out.print_json(data=summary.to_dict())
    else:
        out.print(check_text(summary), markup=False)
    return EXIT_PARTIAL if summary.failed else EXIT_OK


def hear_takes(settings: Settings, batch_dir: Path, *, force: bool = False,
               workers: int | None = None) -> CheckSummary:
    """`speech.check.check_batch` with a progress bar on stderr."""
    from voicelab.speech.check import check_batch
    from voicelab.speech.recognizers import RecognizerSpec

    spec = RecognizerSpec.from_settings(settings)
    with progress_bar() as bar:
        task = bar.add_task(f"hearing takes ({spec.engine})", total=None, failed=0)

        def show(s: CheckSummary) -> None:
            bar.update(task, total=s.total, completed=s.done, failed=s.failed)

        return check_batch(batch_dir, spec, force=force, workers=workers, progress=show)


def check_text(summary: CheckSummary) -> str:
    """A check's summary in one line: takes checked, flagged, the mean WER."""
    mean = "n/a" if summary.mean_wer is None else f"{summary.mean_wer:.3f}"
    return (f"{summary.checked} take(s) checked, {summary.flagged} flagged \"words\", "
            f"mean WER {mean}" + (f", {summary.skipped} skipped" if summary.skipped else "")
            + (f", {summary.failed} failed" if summary.failed else ""))


def hear_new_takes(args: argparse.Namespace, settings: Settings,
                   batch_dirs: Sequence[Path]) -> None:
    """After making takes here and now, hear them as a job does (`--no-check` or
    VOICELAB_SPEECH_CHECK=off skips it); the summary goes to stderr, and a check that cannot
    run is said there, never failing the command (`voicelab check` tries again)."""
    if args.no_check or not settings.speech_check:
        return
    for batch_dir in batch_dirs:
        try:
            summary = hear_takes(settings, batch_dir)
        except VoicelabError as exc:
            err.print(f"speech check not run: {exc}", markup=False)
            continue
        if summary.total:
            err.print(f"{batch_dir.name}: {check_text(summary)}", markup=False)


def _like(value: str) -> int | str | None:
    """`--like`: a rank 1-5, `auto` (the default) or `ranges` (the batch's ranges)."""
    if value in ("auto", "ranges"):
        return None if value == "ranges" else value
    if value.isdigit() and int(value) in range(1, 6):
        return int(value)
    raise argparse.ArgumentTypeError(f"--like takes a rank 1-5, auto or ranges, not {value!r}")


def cmd_more(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab more BATCH_ID --line FUNCTION [--like 1] [--takes N] [--text ...]`: more takes
    of one line, in this process like `generate` (exit 0 all made, 2 some failed, 1 refused),
    or queued with `--submit` (prints the task id; `--wait` follows it like `submit --wait`).
    `--dry-run` prints the estimate and spends nothing.
    """
    from voicelab import generation, people, store
    from voicelab.engines import get_engine
    from voicelab.lines import more

    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    metadata = store.load_metadata(batch_dir)
    engine_name = (metadata.get("generation_params") or {}).get("engine") or \
        settings.default_engine
    engine = get_engine(engine_name, settings)
    estimate = more.estimate_more(metadata, args.line, takes=args.takes, like=args.like,
                                  text=args.text,
                                  dictionary=more.batch_dictionary(batch_dir, metadata, settings),
                                  engine=engine)
    if args.dry_run:
        out.print_json(data=estimate)
        return EXIT_OK
    if args.submit:
        from voicelab import jobs
        from voicelab.jobs.kinds import More

        task_id = jobs.submit(settings, More.request(
            settings, batch_dir, args.line, takes=args.takes, like=args.like, text=args.text,
            person=people.CLI.name))
        out.print(task_id)
        return wait_for_job(settings, task_id) if args.wait else EXIT_OK
    job = more.parse_more({"kind": more.KIND, "batch_id": args.batch_id,
                            "line": args.line, "takes": args.takes, "like": args.like,
                            "text": args.text})
    with progress_bar() as bar:
        task = bar.add_task(f"more takes of {args.line}", total=None, failed=0)

        def show(p: generation.Progress) -> None:
            bar.update(task, total=p.total, completed=p.done + p.failed, failed=p.failed)

        result = more.run_more(settings, job, engine, person=people.CLI.name, progress=show)
    hear_new_takes(args, settings, [batch_dir])
    made = [t["file"] for t in store.load_metadata(batch_dir)["takes"]
            if t["line"] == args.line and t["take_number"] >= estimate["first_take"]]
    for name in made:
        out.print(name)
    for failure in result.failed:
        err.print(f"failed: {failure['file']}: {failure['reason']}", markup=False)
    return EXIT_OK if result.complete else EXIT_PARTIAL


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab sync SCRIPT --batch BATCH_ID [--dry-run] [--json]`: update a batch from an
    edited script (new lines get takes, changed lines' takes go stale and get new ones, lines
    gone are marked removed, unchanged lines are untouched), here and now like `generate`:
    exit 0 all made, 2 some failed, 1 refused. `--dry-run` prints the plan and its cost and
    changes nothing."""
    from voicelab import generation, people, pronunciation, store
    from voicelab.engines import ENGINES, get_engine
    from voicelab.lines import sync
    from voicelab.script import parse_script

    batch_dir = store.find_batch(settings.audio_root, args.batch)
    metadata = store.load_metadata(batch_dir)
    params = metadata.get("generation_params") or {}
    engine_name = params.get("engine") or settings.default_engine
    script = parse_script(args.script, max_text_length=ENGINES[engine_name].text_limit(
        params.get("model_id")))
    dictionary = pronunciation.find_for_script(args.script, settings)
    plan = sync.plan_sync(metadata, script, dictionary)
    if args.dry_run:
        if args.json:
            out.print_json(data=plan.summary())
        else:
            out.print(plan.text(), markup=False)
        return EXIT_OK
    if store.is_locked(batch_dir):
        raise BatchLocked(args.batch)
    engine = get_engine(engine_name, settings)
    with progress_bar() as bar:
        task = bar.add_task("syncing", total=None, failed=0)

        def show(p: generation.Progress) -> None:
            bar.update(task, total=p.total, completed=p.done + p.failed, failed=p.failed)

        done, result = sync.run_sync(batch_dir, script, engine, dictionary=dictionary,
                                     person=people.CLI.name, concurrency=settings.concurrency,
                                     progress=show)
    hear_new_takes(args, settings, [batch_dir])
    out.print(done.text(), markup=False)
    for failure in result.failed:
        err.print(f"failed: {failure['file']}: {failure['reason']}", markup=False)
    return EXIT_OK if result.complete else EXIT_PARTIAL


def add_generate(command: AddCommand) -> None:
    """`voicelab generate`."""
    p = command("generate", cmd_generate, "generate takes for a script, one batch per voice")
    add_generation_flags(p)
    p.add_argument("--concurrency", type=int, help="requests at once (VOICELAB_CONCURRENCY)")
    p.add_argument("--dry-run", action="store_true", help="validate and estimate, spend nothing")
    p.add_argument("--no-check", action="store_true", help=NO_CHECK_HELP)


def add_voices(command: AddCommand) -> None:
    """`voicelab voices`."""
    p = command("voices", cmd_voices, "list the voices of the available engines")
    p.add_argument("--engine", choices=list(ENGINES))
    p.add_argument("--json", action="store_true")


def add_more(command: AddCommand) -> None:
    """`voicelab more`."""
    p = command("more", cmd_more, "more takes of one line of a batch, numbered on from its last "
                "(here and now like generate, or queued with --submit)")
    p.add_argument("batch_id")
    p.add_argument("--line", required=True, metavar="FUNCTION", help="the line's Function")
    p.add_argument("--takes", type=int, default=3, metavar="N", help="how many (default 3)")
    p.add_argument("--like", type=_like, default="auto", metavar="RANK|auto|ranges",
                   help="spread settings tightly around the line's take at this rank, or over "
                        "the batch's ranges (default auto: like the #1 when there is one)")
    p.add_argument("--text", help="an edited text for the line (its current takes go stale)")
    p.add_argument("--dry-run", action="store_true", help="print the estimate, spend nothing")
    p.add_argument("--submit", action="store_true", help="queue a job instead of running here")
    p.add_argument("--wait", action="store_true", help="with --submit: follow the job")
    p.add_argument("--no-check", action="store_true", help=NO_CHECK_HELP)


def add_sync(command: AddCommand) -> None:
    """`voicelab sync`."""
    p = command("sync", cmd_sync, "update a batch from an edited script: only new and changed "
                "lines are generated; nothing ranked is lost")
    p.add_argument("script", type=Path, help="the edited dialogue script (CSV)")
    p.add_argument("--batch", required=True, metavar="BATCH_ID")
    p.add_argument("--dry-run", action="store_true",
                   help="print the differences and the cost, change nothing")
    p.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    p.add_argument("--no-check", action="store_true", help=NO_CHECK_HELP)


def add_check(command: AddCommand) -> None:
    """`voicelab check`."""
    p = command("check", cmd_check, "hear a batch's takes offline and flag those that do not "
                "say their line (word error rate)")
    p.add_argument("batch_id")
    p.add_argument("--force", action="store_true",
                   help="check every take again, not only those never checked")
    p.add_argument("--workers", type=int, metavar="N",
                   help="takes heard at once (default: one per CPU, at most 4)")
    p.add_argument("--json", action="store_true", help="the summary as JSON")
