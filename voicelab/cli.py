"""The `voicelab` command: a thin face over the package."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from voicelab import __version__
from voicelab.config import Settings, get_settings
from voicelab.engines import ENGINES
from voicelab.errors import BatchLocked, VoicelabError
from voicelab.logs import configure_logging

if TYPE_CHECKING:
    from voicelab.speech.check import CheckSummary

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2


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


def progress_bar() -> Progress:
    """The progress bar of `generate` and `submit --wait`, on stderr so stdout stays parseable."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(),
                    console=err, transient=False)


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


def cmd_batches(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab batches`: the batches under AUDIO_ROOT as a table or JSON; exit 0, even if none."""
    from voicelab import store

    records = store.find_batches(settings.audio_root)
    if args.json:
        out.print_json(data=json.loads(json.dumps(records, default=str)))
        return EXIT_OK
    if not records:
        out.print(f"no batches under {settings.audio_root}")
        return EXIT_OK
    table = Table("batch id", "skin", "voice", "takes", "ranked", "locked", "generated (UTC)")
    for r in records:
        table.add_row(r["batch_id"], r["skin"], r["voice"], str(r["take_count"]),
                      str(r["ranked_count"]), "yes" if r["locked"] else "",
                      r["generated_at_utc"] or "incomplete")
    out.print(table)
    return EXIT_OK


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab users add|list|remove|reset`: the people who may sign in; exit 0.

    `add` and `reset` print the password and personal token once: only their hashes are kept.
    """
    from voicelab import people

    root = settings.audio_root
    if args.action == "list":
        records = people.list_users(root)
        if args.json:
            out.print_json(data=[{"name": r.name, "role": r.role, "created": r.created}
                                 for r in records])
        elif not records:
            out.print("no users: sign-in is off (voicelab users add NAME turns it on)")
        else:
            table = Table("name", "role", "created (UTC)")
            for r in records:
                table.add_row(r.name, r.role, r.created)
            out.print(table)
        return EXIT_OK
    if args.action == "remove":
        people.remove_user(root, args.name)
        out.print(f"removed {args.name}: their password, token and sessions no longer work")
        return EXIT_OK
    if args.action == "add":
        made = people.add_user(root, args.name, args.role)
    else:
        made = people.reset_user(root, args.name)
    if args.json:
        out.print_json(data={"name": made.name, "role": made.role, "password": made.password,
                             "token": made.token})
        return EXIT_OK
    verb = "added" if args.action == "add" else "reset"
    out.print(f"{verb} {made.name} ({made.role}). Shown once, keep them safe:\n"
              f"  password  {made.password}\n  API token {made.token}")
    return EXIT_OK


def cmd_fsck(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab fsck`: check every batch (`--repair` first restores ranked/ from metadata).

    Exit 1 when any batch still has problems after that, else 0.
    """
    from voicelab import fsck

    reports = fsck.check_root(settings.audio_root)
    if args.repair:
        for report in reports:
            if report.problems:
                fsck.repair_batch(report.path)
        reports = fsck.check_root(settings.audio_root)
    bad = [r for r in reports if r.problems]
    for report in bad:
        out.print(f"[bold]{report.path}[/bold]")
        for problem in report.problems:
            out.print(f"  - {problem}", markup=False)
    out.print(f"{len(reports)} batch(es) checked, {len(bad)} with problems")
    return EXIT_ERROR if bad else EXIT_OK


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


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab worker`: run a job worker in the foreground; exit with the worker's own code.

    Non-zero after an unrecoverable error, so a supervisor starts it again.
    """
    from voicelab import jobs

    return jobs.run_worker(settings, args.celery_args)


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab submit`: queue the job and print its task id; exit 0.

    With `--wait`, the job's outcome (`wait_for_job`): 0 success, 2 success with failed takes,
    1 any other end (failure, cancelled).
    """
    from voicelab import jobs

    task_id = jobs.submit(settings, config_from_args(args))
    out.print(task_id)
    return wait_for_job(settings, task_id) if args.wait else EXIT_OK


def wait_for_job(settings: Settings, task_id: str) -> int:
    """Follow a job with a progress bar until it ends; exit code by its outcome."""
    import time

    from voicelab.jobs import registry

    with progress_bar() as bar:
        task = bar.add_task("queued", total=None, failed=0)
        while True:
            record = registry.get(settings.audio_root, task_id) or {}
            state, p = record.get("state", "?"), record.get("progress") or {}
            bar.update(task, total=p.get("total"), completed=p.get("done", 0) + p.get("failed", 0),
                       failed=p.get("failed", 0), description=state.lower())
            if state in registry.TERMINAL:
                break
            time.sleep(0.25)
    result = record.get("result") or {}
    for batch_id in result.get("batch_ids", []):
        out.print(batch_id)
    if state != "SUCCESS":
        err.print(f"job {task_id} ended {state}: {record.get('error') or ''}".rstrip(": "),
                  markup=False)
        report = registry.report_path(settings.audio_root, task_id)
        if report.exists():
            err.print(f"report: {report}", markup=False)
        return EXIT_ERROR
    return EXIT_PARTIAL if result.get("failed") else EXIT_OK


def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab cancel`: ask a job to stop, print its state; exit 0, or 1 for an unknown id."""
    from voicelab import jobs

    record = jobs.cancel(settings, args.task_id)
    if record is None:
        err.print(f"error: no job with id {args.task_id!r}", markup=False)
        return EXIT_ERROR
    state = record["state"]
    out.print(f"{args.task_id}: {state}" + (" (stops after the take in hand)"
                                            if record.get("cancel_requested")
                                            and state not in ("REVOKED", "SUCCESS", "FAILURE")
                                            else ""))
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab jobs`: recent jobs, newest first, as a table or JSON; exit 0."""
    from voicelab.jobs import registry

    records = registry.recent(settings.audio_root, args.limit)
    if args.json:
        out.print_json(data=records)
        return EXIT_OK
    table = Table("task id", "submitted (UTC)", "skin", "voices", "engine", "state", "progress")
    for r in records:
        p = r.get("progress") or {}
        done = f"{p.get('done', 0)}/{p.get('total', '?')}" if p else ""
        table.add_row(r["task_id"], r["submitted_at"], r.get("skin") or "",
                      ", ".join(r.get("voices") or []), r.get("engine") or "auto", r["state"], done)
    out.print(table)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab export`: the takes ranked N with a manifest; print the folder (or zip).

    With no engine-ready flag, MP3 copies named by line. With --format, --sample-rate,
    --bit-depth, --loudness, --naming or --preset, engine-ready files and a dialogue sheet.
    Exit 2 when some line has no take at that rank, else 0; 1 for a bad option (nothing
    written). An unlocked batch is exported with a note, since its ranks may still change.
    """
    from voicelab import store
    from voicelab.delivery.deliver import deliver
    from voicelab.delivery.options import DeliveryOptions

    options = DeliveryOptions(
        rank=args.rank, format=args.format, sample_rate=args.sample_rate,
        bit_depth=args.bit_depth, loudness=args.loudness, true_peak=args.true_peak,
        loudness_by_category=args.loudness_by_category, naming=args.naming,
        preset=args.preset, lang=args.lang, make_zip=args.zip)
    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    if not store.is_locked(batch_dir):
        err.print(f"note: batch {args.batch_id} is not locked; ranks may still change")
    result = deliver(batch_dir, args.to, options)
    out.print(str(result.archive or result.folder))
    err.print(f"{len(result.files)} take(s) exported, {len(result.missing)} missing, "
              f"manifest: {result.manifest}")
    if result.sheet is not None:
        err.print(f"dialogue sheet: {result.sheet}")
    if (span := result.loudness_range()) is not None:
        limited = sum(1 for row in result.rows if row.get("limited") is True)
        err.print(f"loudness after: {span[0]:.1f} to {span[1]:.1f} LUFS, "
                  f"{limited} file(s) limited to {args.true_peak:g} dBTP")
    for line in result.missing:
        err.print(f"missing: line {line} has no take ranked {args.rank}")
    return EXIT_PARTIAL if result.missing else EXIT_OK


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab history`: every change to a batch, oldest first, as a table or JSON; exit 0.

    Exit 1 for an unknown batch or a damaged history (one line saying which).
    """
    from voicelab import history, store

    entries = history.read(store.find_batch(settings.audio_root, args.batch_id))
    if args.json:
        out.print_json(data=entries)
    else:
        out.print(history.format_entries(entries), markup=False)
    return EXIT_OK


def cmd_lock(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab lock BATCH_ID [--force]`: freeze the batch's ranks, behind the quality gate.

    In the CLI's name (a lead). When some line's selected take has a QC flag or is stale, or a
    line has no selection, prints them as a table and exits 1, changing nothing; `--force`
    locks anyway (the history records it) and says so. Exit 0 when locked (or already locked).
    """
    from voicelab import history, people, ranking, store
    from voicelab.errors import LockGateRefused

    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    was_locked = store.is_locked(batch_dir)
    try:
        ranking.lock(batch_dir, person=people.CLI.name, force=args.force)
    except LockGateRefused as refused:
        err.print(f"batch {args.batch_id} was not locked: {len(refused.problems)} line(s) to "
                  "check first", markup=False)
        _print_problems(refused.problems)
        err.print(f"fix them (rank a clean take 1 on each line), or lock anyway: voicelab lock "
                  f"{args.batch_id} --force", markup=False)
        return EXIT_ERROR
    if was_locked:
        out.print(f"batch {args.batch_id} was already locked", markup=False)
        return EXIT_OK
    forced = history.read(batch_dir)[-1].get("problems") if args.force else None
    if forced:
        _print_problems([ranking.GateProblem(p["line"], tuple(p["problems"]), p["take"])
                         for p in forced])
        out.print(f"batch {args.batch_id} locked anyway, past {len(forced)} line(s) to check "
                  "(recorded in its history): ranks can no longer change", markup=False)
    else:
        out.print(f"batch {args.batch_id} locked: ranks can no longer change", markup=False)
    return EXIT_OK


def _print_problems(problems: Sequence[Any]) -> None:
    """The quality gate's problems (`ranking.GateProblem`) as a table on stdout."""
    from rich.text import Text

    table = Table("line", "problem", "selected take")
    for problem in problems:
        table.add_row(Text(problem.line), Text(problem.describe()), Text(problem.take or "-"))
    out.print(table)


def cmd_unlock(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab unlock BATCH_ID`: open a locked batch for ranking again, in the CLI's name (a
    lead; recorded in the history). Exit 0, also when it was not locked."""
    from voicelab import people, ranking, store

    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    if not store.is_locked(batch_dir):
        out.print(f"batch {args.batch_id} is not locked", markup=False)
        return EXIT_OK
    ranking.unlock(batch_dir, person=people.CLI.name)
    out.print(f"batch {args.batch_id} unlocked: ranks can change again", markup=False)
    return EXIT_OK


def cmd_panel(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab panel BATCH_ID --raters a,b,c [--no-blind]`: rate the batch as a panel; exit 0.

    Opened in the CLI's name (a lead). Exit 1, one line, for an unknown batch, bad or unknown
    raters, a batch that already has a panel, or a locked one.
    """
    from voicelab import panel, people, store

    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    raters = panel.check_raters(args.raters)
    panel.check_rater_people(settings.audio_root, raters)
    opened = panel.open_panel(batch_dir, raters, blind=args.blind, person=people.CLI.name)["panel"]
    names = opened["raters"]
    out.print(f"batch {args.batch_id} is rated by a panel of {len(names)}: {', '.join(names)}",
              markup=False)
    if opened["blind"]:
        out.print("blind: each rater hears a line's takes in their own shuffled order, labelled "
                  "A, B, C..., without settings, seeds, file names or anyone else's ranks")
    else:
        out.print("not blind: raters see settings and file names, but only their own ranks")
    if people.CLI.name in names and people.CLI.name not in raters:
        out.print(f"the ranks already given are kept as {people.CLI.name}'s own ranking",
                  markup=False)
    out.print(f"next: each rater ranks alone on the batch's board; `voicelab consensus "
              f"{args.batch_id}` shows the consensus and where they disagree; a lead locks the "
              f"batch to make the consensus final", markup=False)
    return EXIT_OK


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
        task_id = more.submit_more(settings, batch_dir, args.line, takes=args.takes,
                                   like=args.like, text=args.text, person=people.CLI.name)
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


def cmd_note(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab note BATCH_ID --line FUNCTION [--text TEXT] [--needs-pass]`: write (or, with
    no text and no flag, remove) a line's director note, in the CLI's name; exit 0."""
    from voicelab import lines, people, store

    batch_dir = store.find_batch(settings.audio_root, args.batch_id)
    note = lines.set_note(batch_dir, args.line, args.text, needs_pass=args.needs_pass,
                          person=people.CLI.name)
    if note is None:
        out.print(f"no note on line {args.line}", markup=False)
    else:
        flag = " (needs another pass)" if note["needs_pass"] else ""
        out.print(f"{args.line}: {note['text']}{flag}", markup=False)
    return EXIT_OK


def _order(ranks: dict[str, int | None], numbers: dict[str, int]) -> str:
    """`{file: rank}` as the take numbers in rank order (`2 > 1 > 3`), `-` when none."""
    ranked = sorted((rank, numbers[file]) for file, rank in ranks.items() if rank is not None)
    return " > ".join(str(number) for _rank, number in ranked) or "-"


def cmd_consensus(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab consensus BATCH_ID [--json] [--disagreements]`: a panel's consensus; exit 0.

    A table per line: agreement (Kendall's W), the consensus order and each rater's (take
    numbers, best first), and whether a lead closed or overrode it; `--disagreements` puts the
    lines raters ranked least alike first. `--json` prints the API's answer
    (`GET /api/batch/<id>/consensus`). Exit 1 for an unknown batch or a solo one.
    """
    from voicelab import panel, store
    from voicelab.errors import PanelRefused

    metadata = store.load_metadata(store.find_batch(settings.audio_root, args.batch_id))
    report = panel.consensus_report(metadata)
    if not report:
        raise PanelRefused(f"batch {args.batch_id} is ranked solo: it has no panel consensus "
                           f"(voicelab panel {args.batch_id} --raters NAME,NAME opens one)")
    disagreeing = [line["line"] for line in panel.disagreements(report)]
    if args.json:
        out.print_json(data={**report, "disagreements": disagreeing})
        return EXIT_OK
    lines = report["lines"]
    if args.disagreements:
        first = {name: i for i, name in enumerate(disagreeing)}
        lines = sorted(lines, key=lambda line: first.get(line["line"], len(first)))
    numbers = {take["file"]: take["take_number"] for take in metadata["takes"]}
    raters = report["raters"]
    out.print(f"batch {report['batch_id']}: a {'blind ' if report['blind'] else ''}panel of "
              f"{len(raters)} ({report['method']}); takes by number, best first", markup=False)
    out.print("progress: " + ", ".join(f"{name} {p['done']}/{p['total']} lines"
                                       for name, p in report["progress"].items()), markup=False)
    table = Table("line", "agreement", "consensus", *raters, "state")
    for line in lines:
        state = ("override" if line["override"] else "closed") if line["closed"] else ""
        agreement = "" if line["agreement"] is None else f"{line['agreement']:.2f}"
        table.add_row(line["line"], agreement, _order(line["consensus"], numbers),
                      *(_order(line["ranks_by"].get(name, {}), numbers) for name in raters),
                      state)
    out.print(table)
    out.print("agreement with the consensus (mean Kendall's tau): " + ", ".join(
        f"{name} {'-' if tau is None else f'{tau:.2f}'}"
        for name, tau in report["rater_agreement"].items()), markup=False)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, settings: Settings | None) -> int:
    """Reads the settings itself (`main` passes None): a bad variable is a row, not a stop."""
    from dataclasses import asdict

    from rich.text import Text

    from voicelab import doctor
    from voicelab.config import settings_and_problems

    settings, problems = settings_and_problems()
    restore_logging = configure_logging(settings)
    try:
        checks = doctor.diagnose(settings, problems)
    finally:
        restore_logging()
    if args.json:
        out.print_json(data=[asdict(c) for c in checks])
    else:
        style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        table = Table("check", "status", "detail", "what to do")
        for c in checks:
            table.add_row(c.name, Text(c.status, style=style[c.status]), Text(c.detail),
                          Text(c.fix))
        out.print(table)
    return EXIT_ERROR if any(c.status == "fail" for c in checks) else EXIT_OK


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab api`: serve the HTTP API alone until stopped; exit 0."""
    import api  # the HTTP face; voicelab's core never imports it

    api.serve(settings, host=args.host, port=args.port, insecure_no_auth=args.insecure_no_auth)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab serve`: dashboards, API and /audio on one port until stopped; exit 0.

    Starts a job worker and a first-run demo batch unless `--no-worker` / `--no-demo`.
    """
    from voicelab.dashboards import server

    server.serve(settings, host=args.host, port=args.port, worker=not args.no_worker,
                 demo=not args.no_demo, insecure_no_auth=args.insecure_no_auth)
    return EXIT_OK


Command = Callable[[argparse.Namespace, Settings], int]
INSECURE_HELP = ("with no users, listen beyond loopback anyway: anyone who reaches the port gets "
                 "in (printed in red at every start)")


NO_CHECK_HELP = ("do not hear the new takes afterwards (the speech check that flags wrong words; "
                 "voicelab check does it later)")


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, each with its handler (`fn`) and whether `main` loads settings for it."""
    parser = argparse.ArgumentParser(prog="voicelab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"voicelab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(fn=fn, needs_settings=True)
        return p

    p = command("generate", cmd_generate, "generate takes for a script, one batch per voice")
    add_generation_flags(p)
    p.add_argument("--concurrency", type=int, help="requests at once (VOICELAB_CONCURRENCY)")
    p.add_argument("--dry-run", action="store_true", help="validate and estimate, spend nothing")
    p.add_argument("--no-check", action="store_true", help=NO_CHECK_HELP)

    p = command("submit", cmd_submit, "queue a generation job (same flags as generate)")
    add_generation_flags(p)
    p.add_argument("--wait", action="store_true", help="follow the job with a progress bar")

    p = command("worker", cmd_worker, "run a job worker for the configured broker")
    p.add_argument("celery_args", nargs=argparse.REMAINDER, help="extra celery worker options")

    p = command("cancel", cmd_cancel, "cancel a job: queued never starts, running stops")
    p.add_argument("task_id")

    p = command("jobs", cmd_jobs, "list recent jobs, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")

    p = command("serve", cmd_serve, "serve the dashboards, the API and /audio on one port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-worker", action="store_true", help="do not start a job worker")
    p.add_argument("--no-demo", action="store_true", help="no demo batch on a first run")
    p.add_argument("--insecure-no-auth", action="store_true", help=INSECURE_HELP)

    p = command("api", cmd_api, "serve the HTTP API alone (production WSGI server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--insecure-no-auth", action="store_true", help=INSECURE_HELP)

    p = command("voices", cmd_voices, "list the voices of the available engines")
    p.add_argument("--engine", choices=list(ENGINES))
    p.add_argument("--json", action="store_true")

    p = command("batches", cmd_batches, "list batches under AUDIO_ROOT, newest first")
    p.add_argument("--json", action="store_true")

    from voicelab.delivery.options import FORMATS, PRESETS  # light: no audio libraries

    p = command("export", cmd_export, "export a batch's selects named by line, with a manifest "
                "(engine-ready: --format, --loudness, --preset)")
    p.add_argument("batch_id")
    p.add_argument("--to", type=Path, required=True, metavar="DIR", help="export folder")
    p.add_argument("--rank", type=int, default=1, choices=range(1, 6), metavar="N",
                   help="which rank to export (default 1: the selects)")
    p.add_argument("--zip", action="store_true", help="also write a zip archive")
    p.add_argument("--format", choices=FORMATS, help="file format (default: as generated, mp3; "
                   "a preset's own otherwise)")
    p.add_argument("--sample-rate", type=int, metavar="HZ", help="resample (soxr VHQ), e.g. 48000")
    p.add_argument("--bit-depth", type=int, choices=(16, 24), help="wav/flac bit depth "
                   "(default 16)")
    p.add_argument("--loudness", type=float, metavar="LUFS", help="integrated loudness target "
                   "(BS.1770), e.g. -23; peaks limited to --true-peak")
    p.add_argument("--true-peak", type=float, default=-1.0, metavar="DBTP",
                   help="true-peak ceiling with --loudness (default -1)")
    p.add_argument("--loudness-by-category", type=Path, metavar="CSV",
                   help="per-category targets, a CSV of Category,LUFS rows (a take's category "
                   "comes from its metadata)")
    p.add_argument("--naming", metavar="TEMPLATE", help="file path template without extension: "
                   "{skin} {voice} {function} {line} {take} {rank} {lang}, / for folders")
    p.add_argument("--preset", choices=PRESETS, default="plain",
                   help="naming and folder layout of an audio tool (default plain)")
    p.add_argument("--lang", default="en", metavar="CODE", help="language code for {lang} "
                   "(default en)")

    p = command("history", cmd_history, "who changed what in a batch, oldest first")
    p.add_argument("batch_id")
    p.add_argument("--json", action="store_true", help="the entries as a JSON list")

    p = command("lock", cmd_lock, "freeze a batch's ranks, after a quality gate: lines whose "
                "selected take is flagged or stale, or that have no selection, stop it")
    p.add_argument("batch_id")
    p.add_argument("--force", action="store_true",
                   help="lock anyway past the gate's problems (recorded in the history)")

    p = command("unlock", cmd_unlock, "open a locked batch for ranking again")
    p.add_argument("batch_id")

    p = command("panel", cmd_panel, "rate a batch as a panel: several raters rank it alone, "
                "blind by default (a lead's action)")
    p.add_argument("batch_id")
    p.add_argument("--raters", required=True, metavar="NAME,NAME",
                   help="the raters, comma-separated (users who may rank, once users exist)")
    p.add_argument("--blind", action=argparse.BooleanOptionalAction, default=True,
                   help="hide settings, seeds, file names and other raters' ranks from raters "
                        "(default: blind)")

    p = command("consensus", cmd_consensus, "a panel's consensus, each rater's ranks and their "
                "agreement, per line")
    p.add_argument("batch_id")
    p.add_argument("--json", action="store_true", help="the report as JSON (as the API gives it)")
    p.add_argument("--disagreements", action="store_true",
                   help="the lines raters ranked least alike first")

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

    p = command("sync", cmd_sync, "update a batch from an edited script: only new and changed "
                "lines are generated; nothing ranked is lost")
    p.add_argument("script", type=Path, help="the edited dialogue script (CSV)")
    p.add_argument("--batch", required=True, metavar="BATCH_ID")
    p.add_argument("--dry-run", action="store_true",
                   help="print the differences and the cost, change nothing")
    p.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    p.add_argument("--no-check", action="store_true", help=NO_CHECK_HELP)

    p = command("note", cmd_note, "write a line's director note (no text and no flag removes it)")
    p.add_argument("batch_id")
    p.add_argument("--line", required=True, metavar="FUNCTION", help="the line's Function")
    p.add_argument("--text", default="", help="the note (none: only the flag, or remove it)")
    p.add_argument("--needs-pass", action="store_true", help='flag "needs another pass"')

    p = command("doctor", cmd_doctor, "check settings, broker, workers, AUDIO_ROOT, ElevenLabs "
                "key, Piper")
    p.add_argument("--json", action="store_true", help="the checks as a JSON list")
    p.set_defaults(needs_settings=False)

    p = command("users", cmd_users, "the people who may sign in, and their roles")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a person; prints their password and API token once")
    add.add_argument("name")
    add.add_argument("--role", default="designer", choices=("viewer", "designer", "lead"),
                     help="viewer listens; designer also ranks; lead also locks, unlocks, "
                          "starts jobs and exports (default: designer)")
    add.add_argument("--json", action="store_true", help='print {"name", "role", "password", '
                     '"token"}')
    listing = actions.add_parser("list", help="every person and their role")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="remove a person (their history stays)")
    remove.add_argument("name")
    reset = actions.add_parser("reset", help="a new password and API token; old ones stop working")
    reset.add_argument("name")
    reset.add_argument("--json", action="store_true")

    p = command("fsck", cmd_fsck, "check every batch against the directory contract")
    p.add_argument("--repair", action="store_true", help="restore ranked/ from metadata")

    p = command("check", cmd_check, "hear a batch's takes offline and flag those that do not "
                "say their line (word error rate)")
    p.add_argument("batch_id")
    p.add_argument("--force", action="store_true",
                   help="check every take again, not only those never checked")
    p.add_argument("--workers", type=int, metavar="N",
                   help="takes heard at once (default: one per CPU, at most 4)")
    p.add_argument("--json", action="store_true", help="the summary as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; every command's errors end here.

    A VoicelabError prints one line, no traceback, and exits 1; Ctrl-C exits 130.
    """
    args = build_parser().parse_args(argv)
    restore_logging: Callable[[], None] | None = None
    try:
        if not args.needs_settings:
            return args.fn(args, None)
        settings = get_settings()
        restore_logging = configure_logging(settings)
        return args.fn(args, settings)
    except VoicelabError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    finally:
        if restore_logging:
            restore_logging()


if __name__ == "__main__":
    sys.exit(main())
