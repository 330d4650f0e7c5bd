"""What an estimate adds for engines with an account quota: the share of what is left."""

from __future__ import annotations

import logging
from typing import Any

from voicelab.engines.base import Engine
from voicelab.errors import EngineError

log = logging.getLogger(__name__)


def quota_share(engine: Engine, characters: int) -> dict[str, Any] | None:
    """The account's quota and the share of what is left that `characters` would spend.

    None for engines without a quota (Piper); `{"error": ...}` when the service cannot say,
    since an estimate is still useful without it.
    """
    quota = getattr(engine, "quota", None)
    if quota is None:
        return None
    try:
        left = quota()
    except EngineError as exc:
        log.warning("quota unavailable for the estimate: %s", exc)
        return {"error": str(exc)}
    share = characters / left["remaining"] if left["remaining"] else None
    return {**left, "share": share, "enough": characters <= left["remaining"]}
