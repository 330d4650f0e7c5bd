"""A batch's life after generation: `batches`, `export`, `history`, `lock`, `unlock`, `note`
and `fsck`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from voicelab.cli.common import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, AddCommand, err, out
from voicelab.config import Settings


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


def add_batches(command: AddCommand) -> None:
    """`voicelab batches`."""
    p = command("batches", cmd_batches, "list batches under AUDIO_ROOT, newest first")
    p.add_argument("--json", action="store_true")


def add_export(command: AddCommand) -> None:
    """`voicelab export`."""
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


def add_history(command: AddCommand) -> None:
    """`voicelab history`."""
    p = command("history", cmd_history, "who changed what in a batch, oldest first")
    p.add_argument("batch_id")
    p.add_argument("--json", action="store_true", help="the entries as a JSON list")


def add_lock(command: AddCommand) -> None:
    """`voicelab lock`."""
    p = command("lock", cmd_lock, "freeze a batch's ranks, after a quality gate: lines whose "
                "selected take is flagged or stale, or that have no selection, stop it")
    p.add_argument("batch_id")
    p.add_argument("--force", action="store_true",
                   help="lock anyway past the gate's problems (recorded in the history)")


def add_unlock(command: AddCommand) -> None:
    """`voicelab unlock`."""
    p = command("unlock", cmd_unlock, "open a locked batch for ranking again")
    p.add_argument("batch_id")


def add_note(command: AddCommand) -> None:
    """`voicelab note`."""
    p = command("note", cmd_note, "write a line's director note (no text and no flag removes it)")
    p.add_argument("batch_id")
    p.add_argument("--line", required=True, metavar="FUNCTION", help="the line's Function")
    p.add_argument("--text", default="", help="the note (none: only the flag, or remove it)")
    p.add_argument("--needs-pass", action="store_true", help='flag "needs another pass"')


def add_fsck(command: AddCommand) -> None:
    """`voicelab fsck`."""
    p = command("fsck", cmd_fsck, "check every batch against the directory contract")
    p.add_argument("--repair", action="store_true", help="restore ranked/ from metadata")
