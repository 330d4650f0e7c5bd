"""The `voicelab` command: a thin face over the package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from voicelab import __version__
from voicelab.cli import batches, generation, jobs, people, serve
from voicelab.cli.common import EXIT_ERROR, AddCommand, Command, err
from voicelab.config import get_settings
from voicelab.errors import VoicelabError
from voicelab.logs import configure_logging

# Every subcommand, in the order `voicelab --help` lists them; each group's module adds its own.
COMMANDS: tuple[Callable[[AddCommand], None], ...] = (
    generation.add_generate, jobs.add_submit, jobs.add_worker, jobs.add_cancel, jobs.add_jobs,
    serve.add_serve, serve.add_api, generation.add_voices, batches.add_batches,
    batches.add_export, batches.add_history, batches.add_lock, batches.add_unlock,
    people.add_panel, people.add_consensus, generation.add_more, generation.add_sync,
    batches.add_note, serve.add_doctor, people.add_users, batches.add_fsck, generation.add_check,
)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, each with its handler (`fn`) and whether `main` loads settings for it."""
    parser = argparse.ArgumentParser(prog="voicelab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"voicelab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(fn=fn, needs_settings=True)
        return p

    for add in COMMANDS:
        add(command)
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
