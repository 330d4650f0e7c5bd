"""The people: `users` (who may sign in), and rating as a panel (`panel`, `consensus`)."""

from __future__ import annotations

import argparse

from rich.table import Table

from voicelab.cli.common import EXIT_OK, AddCommand, out
from voicelab.config import Settings


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


def add_users(command: AddCommand) -> None:
    """`voicelab users add|list|remove|reset`."""
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


def add_panel(command: AddCommand) -> None:
    """`voicelab panel`."""
    p = command("panel", cmd_panel, "rate a batch as a panel: several raters rank it alone, "
                "blind by default (a lead's action)")
    p.add_argument("batch_id")
    p.add_argument("--raters", required=True, metavar="NAME,NAME",
                   help="the raters, comma-separated (users who may rank, once users exist)")
    p.add_argument("--blind", action=argparse.BooleanOptionalAction, default=True,
                   help="hide settings, seeds, file names and other raters' ranks from raters "
                        "(default: blind)")


def add_consensus(command: AddCommand) -> None:
    """`voicelab consensus`."""
    p = command("consensus", cmd_consensus, "a panel's consensus, each rater's ranks and their "
                "agreement, per line")
    p.add_argument("batch_id")
    p.add_argument("--json", action="store_true", help="the report as JSON (as the API gives it)")
    p.add_argument("--disagreements", action="store_true",
                   help="the lines raters ranked least alike first")
