"""`voicelab serve`: the Voila dashboards, the API and /audio on one origin, plus a worker.

One tornado server (a small `voila.app.Voila` subclass) serves everything (docs/design.md,
decision 9):
- `/` redirects to the batch list, `/voila/render/<notebook>` renders `notebooks/`;
- this project's API paths and `/audio/` go to the Flask app through a WSGI container on a
  thread pool, so a slow request never blocks the event loop; the token check lives in Flask;
- pages use the Voila template `voicelab` (`static/jupyter/voila/templates/voicelab/`, found
  through JUPYTER_PATH): Voila's `lab` template without its CDN links (decision 10: Voila's own
  bundle already carries Font Awesome), topped by one slim header that links the dashboards
  (`SHELL_LINKS`), rendered before any kernel runs;
- pages load only the front-end extensions dashboards use (`DASHBOARD_EXTENSIONS`), two of them
  built for Voila's own JupyterLab 4.2 (`static/labextensions/README.md`), so the JupyterLab and
  Notebook installed for audio leads never load into a dashboard and the console stays clean.

Kernels for the dashboards are preheated. Voila's page-unload beacon that shuts a kernel down
is refused without an `_xsrf` cookie, which Voila never sets, so every visit used to leak a
kernel: render pages set that cookie, and idle kernels (lost tabs, crashed browsers) are culled.

Kernels are a bounded resource (docs/design.md, decision 14):
`voicelab.dashboards.dashboard_kernels`.

Sign-in (docs/design.md, decision 11) is `voicelab.dashboards.sign_in`: once a user exists every
path but `/healthz` and `/login` needs a person. Each page's request carries its person to its
kernel in the header PERSON_HEADER, which the render handler sets itself (never the browser's) and
Voila hands to the kernel (`http_header_envs`).

Voila's and Jupyter's unpublished names are used in `voicelab.dashboards.voila_compat` only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import socket
import sys
import webbrowser
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from voicelab import servers
from voicelab.config import Settings
from voicelab.dashboards.dashboard_kernels import (
    RETRY_AFTER_S,
    KernelLimits,
    PageKernels,
    PageTicket,
    busy_page,
    kernel_limits,
    kernel_manager_class,
    starts_a_kernel,
)
from voicelab.dashboards.sign_in import Gate
from voicelab.dashboards.voila_compat import RENDER, REQUEST_INFO, SHUTDOWN, voila_app_class
from voicelab.errors import ConfigError
from voicelab.jobs.supervisor import Supervisor
from voicelab.people.exposure import require_users
from voicelab.people.sessions import PERSON_HEADER, session_secret

STATIC = Path(__file__).resolve().parents[1] / "static"
# A Jupyter data directory (put on JUPYTER_PATH) holding the Voila template TEMPLATE, which
# extends Voila's `lab`: the page, and the header it includes.
JUPYTER_DATA = STATIC / "jupyter"
TEMPLATE = "voicelab"
TEMPLATE_OVERRIDES = JUPYTER_DATA / "voila" / "templates" / TEMPLATE
DASHBOARD_LABEXTENSIONS = STATIC / "labextensions"
BATCH_LIST = "batches.ipynb"
RANK_BOARD = "rank.ipynb"
LAUNCH = "launch.ipynb"
JOBS = "jobs.ipynb"
PREHEATED = (BATCH_LIST, RANK_BOARD, LAUNCH, JOBS)
# The header of every dashboard page: (label, notebook), left to right.
SHELL_LINKS = (("Batches", BATCH_LIST), ("Launch", LAUNCH), ("Jobs", JOBS))
# The federated extensions a dashboard page loads, and no other: the widget managers, anywidget
# (the board and the player) and the code colours. Not Notebook 7's lab extension nor anything
# else installed for JupyterLab: they are built for a newer JupyterLab than Voila's page.
DASHBOARD_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8",
                        "anywidget", "jupyterlab_pygments")
API_THREADS = 8
CULL_IDLE_S = 600
CULL_INTERVAL_S = 60
KERNEL_SHUTDOWN_WAIT_S = 1.0
HEALTH_PATH = "/healthz"  # answered by serve itself (kernel counts), by Flask under `voicelab api`
# Flask's own static route is not part of the API; everything else it routes is.
_NOT_API_ENDPOINTS = {"static"}

def dashboard_url(base: str, notebook: str, **query: str) -> str:
    """The stable address of a dashboard, e.g. `<base>/voila/render/rank.ipynb?batch_id=<id>`."""
    url = f"{base.rstrip('/')}/voila/render/{notebook}"
    return f"{url}?{urlencode(query)}" if query else url


def api_path_pattern(rules: Sequence[str]) -> str:
    """A tornado path regex matching exactly the paths the Flask app routes.

    Each rule contributes its literal prefix (up to its first `<variable>`), so `/api/kernels`
    and the other Jupyter paths under `/api/` stay with Voila.
    """
    prefixes = sorted({rule.split("<", 1)[0] for rule in rules}, key=len, reverse=True)
    alternatives = "|".join(
        re.escape(p) + (".*" if p.endswith("/") else "(?:/.*)?") for p in prefixes
    )
    return f"(?:{alternatives})"


def _flask_rules(app: Any) -> list[str]:
    return [r.rule for r in app.url_map.iter_rules()
            if r.endpoint not in _NOT_API_ENDPOINTS and r.rule != HEALTH_PATH]


def port_free(host: str, port: int) -> bool:
    """Whether `port` can be bound on `host` now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def voila_config(host: str, port: int, limits: KernelLimits | None = None,
                 sign_in: dict[str, Any] | None = None) -> Any:
    """Voila's configuration for `voicelab serve` (a traitlets Config; no config files read).

    `sign_in`: the classes `voicelab.dashboards.sign_in.handlers` built for the server's Gate.
    """
    from traitlets.config import Config

    limits = limits or kernel_limits(Settings(), len(PREHEATED))

    config = Config()
    config.Voila.update(ip=host, port=port, port_retries=0, open_browser=False,
                        config_file_paths=[])
    if sign_in:
        config.Voila.update(identity_provider_class=sign_in["identity_provider"],
                            authorizer_class=sign_in["authorizer"])
    # No tracebacks in pages: with --host beyond loopback, strangers would read them. The page
    # template is ours (TEMPLATE, on JUPYTER_PATH: see child_env), the kernel manager is capped
    # (Voila builds its pooling manager on top of the class named here).
    config.VoilaConfiguration.update(preheat_kernel=True, default_pool_size=1,
                                     show_tracebacks=False, http_header_envs=[PERSON_HEADER],
                                     template=TEMPLATE,
                                     multi_kernel_manager_class=kernel_manager_class())
    # Extensions installed for the audio leads' JupyterLab 4.6 and Notebook 7 fail or warn in
    # Voila's JupyterLab 4.2 page: pages load only theirs, the widget managers built for 4.2.
    config.VoilaConfiguration.update(
        extension_allowlist=list(DASHBOARD_EXTENSIONS),
        extra_labextensions_path=[str(DASHBOARD_LABEXTENSIONS)],
        resources={"voicelab": {"shell": [{"label": label, "notebook": notebook}
                                          for label, notebook in SHELL_LINKS]}})
    # A kernel handed out is replaced at once, not after Voila's default second.
    config.VoilaKernelManager.fill_delay = 0
    # A preheated kernel runs its notebook before any visit: only the dashboards get one,
    # never generate.ipynb (that one runs a job).
    config.VoilaKernelManager.kernel_pools_config = {
        "default": {"pool_size": 0}, **{nb: {"pool_size": 1} for nb in PREHEATED}}
    config.MappingKernelManager.update(cull_idle_timeout=CULL_IDLE_S,
                                       cull_interval=CULL_INTERVAL_S)
    # Kernels talk to the server over Unix sockets: no TCP port to lose to another process
    # between choosing and binding it, none for other local users to reach. A kernel busy in
    # its cell (a preheated one waits for its visit there) cannot answer a shutdown request;
    # it is sent SIGTERM after half the wait, not after 2.5 s: it holds nothing unsaved.
    config.KernelManager.update(transport="ipc", shutdown_wait_time=KERNEL_SHUTDOWN_WAIT_S)
    config.BoundedKernelManager.update(max_kernels=limits.max_kernels,
                                       connect_timeout=limits.connect_s,
                                       start_slots=limits.start_slots)
    return config


def _voila_class(sign_in: dict[str, Any]) -> type:
    """The Voila app class; built on first use so importing this module stays light."""
    import tornado.httputil
    import tornado.web
    import tornado.wsgi
    from jupyter_core.utils import ensure_async
    from jupyter_server.base.handlers import APIHandler, JupyterHandler

    from voicelab.dashboards.sign_in import owns_kernel

    def render_handler(voila_render: type) -> type:
        class RenderHandler(voila_render):
            """Voila's render handler, plus the `_xsrf` cookie the unload beacon needs, and
            the cap.

            A request for a notebook is admitted only if a kernel slot is free; otherwise it
            gets the plain 503 page and no kernel starts.
            """

            _ticket: PageTicket | None = None

            async def prepare(self) -> None:
                self.request.headers.pop(PERSON_HEADER, None)  # never the browser's word
                await ensure_async(super().prepare())  # sets current_user, which the cookie needs
                if self.current_user is not None:
                    self.request.headers[PERSON_HEADER] = self.current_user.username
                self.xsrf_token  # noqa: B018  # reading it sets the cookie

            @property
            def kernel_manager(self) -> Any:
                manager = self.settings["kernel_manager"]
                return manager if self._ticket is None else PageKernels(manager, self._ticket)

            _gone = False

            @tornado.web.authenticated
            async def get(self, path: str | None = None) -> None:
                if starts_a_kernel(path):
                    manager = self.settings["kernel_manager"]
                    admission = await manager.admit_page(lambda: self._gone)
                    if admission == "gone":
                        return
                    if admission != "admitted":
                        self.refuse(manager, admission)
                        return
                    self._ticket = PageTicket(manager, self.current_user.username)
                    if self._gone:  # left in the same step it was admitted
                        self._ticket.abandon()
                await super().get(path=path)

            def refuse(self, manager: Any, why: str) -> None:
                manager.note_refusal(self.request.path, why)
                self.set_status(503)
                self.set_header("Retry-After", str(RETRY_AFTER_S))
                self.set_header("Cache-Control", "no-store")
                self.set_header("Content-Type", "text/html; charset=UTF-8")
                self.finish(busy_page(manager.max_kernels))

            def on_connection_close(self) -> None:
                self._gone = True
                if self._ticket is not None:
                    self._ticket.abandon()
                super().on_connection_close()

            def on_finish(self) -> None:
                if self._ticket is not None:
                    self._ticket.close()
                super().on_finish()

        return RenderHandler

    def shutdown_handler(voila_shutdown: type) -> type:
        class ShutdownHandler(voila_shutdown):
            """Voila's page-unload shutdown, for the kernel's own person only."""

            @tornado.web.authenticated
            async def post(self, kernel_id: str) -> None:
                if not owns_kernel(self.kernel_manager, kernel_id, self.current_user.username):
                    raise tornado.web.HTTPError(403)
                await super().post(kernel_id)

        return ShutdownHandler

    class HealthHandler(tornado.web.RequestHandler):
        """`GET /healthz`: the kernel books, read without touching a kernel or a sign-in."""

        def get(self) -> None:
            manager = self.settings["kernel_manager"]
            self.set_header("Cache-Control", "no-store")
            self.finish({"status": "ok", **manager.books()})

    def plain_errors(cls: type) -> type:
        """A Jupyter page handler whose errors are plain text: Jupyter's HTML error page needs
        a `static_path` Voila's app does not have, so a 403 would log a traceback instead."""

        class Plain(cls):
            def write_error(self, status_code: int, **kwargs: Any) -> None:
                error = kwargs.get("exc_info", (None, None, None))[1]
                reason = getattr(error, "reason", None) or tornado.httputil.responses.get(
                    status_code, "Unknown")
                self.set_header("Content-Type", "text/plain; charset=UTF-8")
                self.finish(f"{status_code} {reason}\n")

        Plain.__name__ = Plain.__qualname__ = cls.__name__
        return Plain

    def guarded(role: str | None, cls: type) -> type:
        """Voila's handler class with VoiceLab's checks: every path needs a person."""
        if role == RENDER:
            cls = render_handler(cls)
        elif role == SHUTDOWN:
            cls = shutdown_handler(cls)
        elif role == REQUEST_INFO:
            cls = sign_in["local_only"](cls)
        elif cls in (sign_in["login"], sign_in["logout"], sign_in["session"]):
            pass
        elif isinstance(cls, type) and not issubclass(cls, JupyterHandler):
            cls = sign_in["signed_in_only"](cls)
        if isinstance(cls, type) and issubclass(cls, JupyterHandler) and \
                not issubclass(cls, APIHandler):
            cls = plain_errors(cls)
        return cls

    def front(app: Any) -> list[tuple[Any, ...]]:
        """The API, /audio, the health check and the redirect, in front of Voila's routes."""
        container = tornado.wsgi.WSGIContainer(
            app.flask_app, executor=ThreadPoolExecutor(API_THREADS, "api"))
        return [
            (HEALTH_PATH, HealthHandler),
            ("/", tornado.web.RedirectHandler,
             {"url": f"/voila/render/{BATCH_LIST}", "permanent": False}),
            (api_path_pattern(_flask_rules(app.flask_app)), tornado.web.FallbackHandler,
             {"fallback": container}),
        ]

    voila = voila_app_class(front, guarded)

    class VoicelabVoila(voila):  # type: ignore[misc,valid-type]
        """Voila with the API, /audio, the redirect and local static files in front."""

        flask_app: Any = None

    return VoicelabVoila


def child_env(settings: Settings) -> dict[str, str]:
    """The environment for the server, kernels and the worker: this one, with AUDIO_ROOT made
    absolute and the page template's directory on JUPYTER_PATH.

    Kernels run in notebooks/, so a relative AUDIO_ROOT (the default `./output`) would point
    somewhere else there.
    """
    return {**os.environ, "AUDIO_ROOT": str(Path(settings.audio_root).resolve()),
            "JUPYTER_PATH": jupyter_path_with_template(os.environ.get("JUPYTER_PATH"))}


def jupyter_path_with_template(current: str | None) -> str:
    """JUPYTER_PATH with JUPYTER_DATA first, where Voila finds the template TEMPLATE."""
    ours = str(JUPYTER_DATA)
    others = [p for p in (current or "").split(os.pathsep) if p and p != ours]
    return os.pathsep.join([ours, *others])


def urls(host: str, port: int) -> dict[str, str]:
    """The addresses `voicelab serve` prints; others may link to them."""
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return {
        "batches": f"{base}/",
        "rank board": dashboard_url(base, RANK_BOARD) + "?batch_id=<id>",
        "launch": dashboard_url(base, LAUNCH),
        "jobs": dashboard_url(base, JOBS),
        "dashboards": f"{base}/voila/tree",
        "API": f"{base}/api/openapi.json",
        "audio": f"{base}/audio/<skin>/<voice>/<batch>/takes/<file>",
        "health": f"{base}{HEALTH_PATH}",
    }


def sign_in_gate(settings: Settings, host: str, insecure_no_auth: bool) -> Gate:
    """How a server on `host` lets people in (`voicelab.people.exposure.require_users`).

    Raises:
        ConfigError: no users beyond loopback without `insecure_no_auth`, or a broken users
            file.
    """
    root = Path(settings.audio_root)
    must = require_users(root, host, insecure_no_auth=insecure_no_auth)
    secret = functools.cache(functools.partial(session_secret, root, settings.secret_key))
    return Gate(root=root, secret=secret, service_token=settings.api_token, require_users=must)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8866, worker: bool = True,
          demo: bool = True, open_browser: bool = False, *, notebooks: Path | None = None,
          insecure_no_auth: bool = False) -> None:
    """Serve dashboards, API and audio on http://host:port until SIGINT/SIGTERM.

    With `worker`, a `voicelab worker` subprocess runs generation jobs and is terminated with
    the server. With `demo`, a first run on an AUDIO_ROOT without batches makes a small Piper
    batch first (about 10 s). Sign-in: see `sign_in_gate`.

    Raises:
        ConfigError: the port is taken, VOICELAB_MAX_KERNELS or VOICELAB_KERNEL_CONNECT_S is
            unusable, no users on an address beyond loopback, or as api.create_app.
    """
    from api import create_app
    from voicelab.dashboards.sign_in import handlers

    limits = kernel_limits(settings, len(PREHEATED))
    if not port_free(host, port):
        raise ConfigError("--port", port, f"already in use on {host}; pick another port")
    gate = sign_in_gate(settings, host, insecure_no_auth)
    sign_in = handlers(gate)
    env = child_env(settings)
    os.environ.update(env)  # kernels inherit the server's environment
    if demo:
        from voicelab.dashboards.demo import ensure_demo_batch

        batch_id = ensure_demo_batch(settings)
        if batch_id:
            print(f"made a demo batch to rank: {batch_id}", flush=True)
    app = _voila_class(sign_in)(config=voila_config(host, port, limits, sign_in))
    print(f"dashboards: at most {limits.max_kernels} kernels at once (VOICELAB_MAX_KERNELS), "
          f"{limits.start_slots} starting at once", flush=True)
    app.flask_app = create_app(settings, require_users=gate.require_users)
    app.initialize([str(notebooks or settings.notebooks_dir)])
    with contextlib.ExitStack() as stack:
        if worker:
            stack.enter_context(Supervisor([sys.executable, "-m", "voicelab", "worker"], env))
        _announce(host, port, open_browser)
        local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        stack.callback(servers.withdraw, servers.announce(
            settings.audio_root, urls(local, port)["batches"].rstrip("/")))
        app.start()


def _announce(host: str, port: int, open_browser: bool) -> None:
    """Print the URLs (and open a browser) once the event loop runs, i.e. once listening."""
    from tornado.ioloop import IOLoop

    def show() -> None:
        lines = [f"  {name:<11} {url}" for name, url in urls(host, port).items()]
        print("VoiceLab is serving:\n" + "\n".join(lines), flush=True)
        if open_browser:
            webbrowser.open(urls(host, port)["batches"])

    IOLoop.current().add_callback(show)

