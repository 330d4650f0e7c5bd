"""The Flask app factory: settings, Celery, the blueprints, auth, CORS, errors, request log.

`flask --app api.app run` finds `create_app` here (development); `api.serve` runs the same app
under waitress (production).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from api import auth, errors, routes
from voicelab import jobs
from voicelab.config import Settings, get_settings
from voicelab.errors import ConfigError
from voicelab.logs import configure_logging

MAX_BODY_BYTES = 4 * 1024 * 1024

access_log = logging.getLogger("api.requests")


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    # request.path never carries the query string, so a `?token=` cannot reach the log.
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    access_log.info("%s %s %d %.1f ms", request.method, request.path, response.status_code,
                    elapsed_ms)
    return response


def create_app(settings: Settings | None = None, *, require_users: bool = False) -> Flask:
    """Build the API app for `settings` (default: the environment, with logging set up).

    `require_users`: with no users and no service token, refuse every request instead of
    letting anyone in (a server bound beyond loopback; see api.auth).

    Raises:
        ConfigError: FLASK_ENV is production and SECRET_KEY is unset.
    """
    if settings is None:
        settings = get_settings()
        configure_logging(settings)
    if settings.flask_env == "production" and not settings.secret_key:
        raise ConfigError("SECRET_KEY", "(unset)", "required when FLASK_ENV=production")
    app = Flask(__name__, static_folder=None)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
                      MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep metadata's own order
    app.url_map.merge_slashes = False  # `/audio//etc/x` is a 404, not a redirect
    app.extensions["voicelab"] = settings
    app.extensions["voicelab.engines"] = {}
    app.extensions["celery"] = jobs.get_app(settings)
    app.before_request(_start_timer)
    auth.install(app, settings, require_users)
    app.after_request(_log_request)
    errors.register(app)
    for blueprint in routes.BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
