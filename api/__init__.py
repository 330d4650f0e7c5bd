"""VoiceLab's HTTP API (docs/api.md): a Flask app factory and a blueprint per area, thin over
voicelab.

`create_app(settings)` builds the app; `serve(settings, host, port)` runs it under waitress.
"""

from __future__ import annotations

import gc

from api.app import create_app
from voicelab.config import Settings
from voicelab.logs import configure_logging
from voicelab.people.exposure import require_users

__all__ = ["create_app", "serve"]

WAITRESS_THREADS = 8


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 5000, *,
          insecure_no_auth: bool = False) -> None:
    """Serve the API with waitress until interrupted; port 0 picks a free port (logged).

    Beyond loopback it needs users or a service token (VOICELAB_API_TOKEN), unless
    `insecure_no_auth`.

    Raises:
        ConfigError: as create_app, or an open door (voicelab.people.exposure.require_users).
    """
    import waitress

    configure_logging(settings)
    must = require_users(settings.audio_root, host, insecure_no_auth=insecure_no_auth,
                         guarded=bool(settings.api_token), what="rank, lock and start jobs "
                         "through the API")
    app = create_app(settings, require_users=must)
    # Long-lived objects (Flask, the engines) leave the collector's view, so the full
    # collections that loading a large metadata.json triggers stay short.
    gc.collect()
    gc.freeze()
    waitress.serve(app, host=host, port=port, threads=WAITRESS_THREADS, ident="voicelab")
