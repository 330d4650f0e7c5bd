"""The servers and the health check: `serve`, `api` and `doctor`."""

from __future__ import annotations

import argparse

from rich.table import Table

from voicelab.cli.common import EXIT_ERROR, EXIT_OK, AddCommand, out
from voicelab.config import Settings
from voicelab.logs import configure_logging

INSECURE_HELP = ("with no users, listen beyond loopback anyway: anyone who reaches the port gets "
                 "in (printed in red at every start)")


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


def add_serve(command: AddCommand) -> None:
    """`voicelab serve`."""
    p = command("serve", cmd_serve, "serve the dashboards, the API and /audio on one port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-worker", action="store_true", help="do not start a job worker")
    p.add_argument("--no-demo", action="store_true", help="no demo batch on a first run")
    p.add_argument("--insecure-no-auth", action="store_true", help=INSECURE_HELP)


def add_api(command: AddCommand) -> None:
    """`voicelab api`."""
    p = command("api", cmd_api, "serve the HTTP API alone (production WSGI server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--insecure-no-auth", action="store_true", help=INSECURE_HELP)


def add_doctor(command: AddCommand) -> None:
    """`voicelab doctor`: reads its own settings (`main` passes None)."""
    p = command("doctor", cmd_doctor, "check settings, broker, workers, AUDIO_ROOT, ElevenLabs "
                "key, Piper")
    p.add_argument("--json", action="store_true", help="the checks as a JSON list")
    p.set_defaults(needs_settings=False)
