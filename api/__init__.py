"""VoiceLab's HTTP API (seed spec §4.4): a Flask app factory and one blueprint, thin over voicelab.

`create_app(settings)` builds the app; `serve(settings, host, port)` runs it under waitress.
"""

from __future__ import annotations

import gc

from api.app import create_app
from voicelab.config import Settings
from voicelab.logs import configure_logging

__all__ = ["create_app", "serve"]

WAITRESS_THREADS = 8


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve the API with waitress until interrupted; port 0 picks a free port (logged).

    Raises:
        ConfigError: as create_app.
    """
    import waitress

    configure_logging(settings)
    app = create_app(settings)
    # Long-lived objects (Flask, the engines) leave the collector's view, so the full
    # collections that loading a large metadata.json triggers stay short.
    gc.collect()
    gc.freeze()
    waitress.serve(app, host=host, port=port, threads=WAITRESS_THREADS, ident="voicelab")
