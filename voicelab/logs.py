"""Logging set-up: the log format of docs/configuration.md, LOG_LEVEL, LOG_FILE, and secrets
masked everywhere."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from voicelab.config import Settings

LOG_FORMAT = "[%(asctime)s] [%(levelname)s] [%(name)s] %(message)s"


class RedactSecrets(logging.Filter):
    """Replace any secret value in a record's final message with `***`."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> Callable[[], None]:
    """Send logs to stderr (and LOG_FILE when set) in the house format, secrets masked.

    Returns a function that puts the previous configuration back and closes these handlers:
    a caller in a longer-lived process (tests, a notebook calling `cli.main`) must not leave
    the root logger writing to a stream that may be closed after it returns.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.log_file:
        handlers.append(logging.FileHandler(settings.log_file, encoding="utf-8"))
    redact = RedactSecrets(settings.secrets)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(redact)
    root = logging.getLogger()
    previous, level = list(root.handlers), root.level
    for old in previous:
        root.removeHandler(old)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(settings.log_level)

    def restore() -> None:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        for old in previous:
            root.addHandler(old)
        root.setLevel(level)

    return restore
