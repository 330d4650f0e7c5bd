"""`voicelab serve`: the Voila dashboards, the API and /audio on one origin, plus a worker.

One tornado server (a small `voila.app.Voila` subclass) serves everything (DESIGN decision 9):
- `/` redirects to the batch list, `/voila/render/<notebook>` renders `notebooks/`;
- this project's API paths and `/audio/` go to the Flask app through a WSGI container on a
  thread pool, so a slow request never blocks the event loop; the token check lives in Flask;
- pages use `static/template/index.html.j2`, Voila's `lab` template without its CDN links
  (decision 10: Voila's own bundle already carries Font Awesome).

Kernels for the dashboards are preheated. Voila's page-unload beacon that shuts a kernel down
is refused without an `_xsrf` cookie, which Voila never sets, so every visit used to leak a
kernel: render pages set that cookie, and idle kernels (lost tabs, crashed browsers) are culled.

Kernels are a bounded resource (DESIGN decision 14), each a ~180 MB Python process:
- at most VOICELAB_MAX_KERNELS run at once, the preheated ones included; past that, a page
  request gets a plain 503 page and starts nothing. Every admitted page request costs exactly
  one kernel: a cold start, or the pool's refill after it hands its warm kernel out, so pools
  are refilled, never grown;
- a client that leaves before its page is complete gets no kernel, or has it shut down as
  soon as it is handed out (a warm one) or the page is rendered (a cold one): a reload, a
  link-preview bot or a retrying proxy costs a kernel for seconds, not for the idle cull;
- a page's kernel whose websocket (`/api/kernels/<id>/channels`) has not opened within
  VOICELAB_KERNEL_CONNECT_S of Voila sending the page (a client that reads pages but runs no
  JavaScript) is shut down;
- `/healthz` answers from the books, touching no kernel and asking for no sign-in.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import sys
import time
import webbrowser
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from voicelab.config import Settings
from voicelab.errors import ConfigError
from voicelab.supervisor import Supervisor

TEMPLATE_OVERRIDES = Path(__file__).resolve().parent / "static" / "template"
BATCH_LIST = "batches.ipynb"
RANK_BOARD = "rank.ipynb"
PREHEATED = (BATCH_LIST, RANK_BOARD)
API_THREADS = 8
CULL_IDLE_S = 600
CULL_INTERVAL_S = 60
HEALTH_PATH = "/healthz"  # answered by serve itself (kernel counts), by Flask under `voicelab api`
# Flask's own static route is not part of the API; everything else it routes is.
_NOT_API_ENDPOINTS = {"static"}

# Kernels (DESIGN decision 14). The default cap leaves each kernel KERNEL_BUDGET_BYTES of the
# memory available at start (a kernel with a board open is ~180 MB), within MAX_KERNELS_DEFAULT.
KERNEL_BUDGET_BYTES = 250 * 1024 * 1024
MAX_KERNELS_DEFAULT = (4, 32)
KERNELS_PER_CPU = 4
KERNEL_CONNECT_S = 30.0  # a page's kernel waits this long for the page's websocket
RETRY_AFTER_S = 60
REFUSALS_LOG_S = 10
BUSY_MESSAGE = "too many open dashboards: close a tab or try again in a minute"
BUSY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>VoiceLab: too many open dashboards</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f2328; max-width: 36rem;
       margin: 12vh auto; padding: 0 1.5rem; }}
h1 {{ font-size: 1.35rem; margin: 0 0 .75rem; }}
p {{ margin: 0 0 .75rem; }}
.note {{ color: #59636e; font-size: .9rem; }}
</style></head>
<body><h1>VoiceLab is busy</h1>
<p>{message}.</p>
<p class="note">Every open dashboard runs its own Python process, and this server runs at most
{max_kernels} at a time. <a href="">Try again</a></p>
</body></html>
"""


def busy_page(max_kernels: int) -> str:
    """The 503 page: plain HTML with its style inline, nothing fetched from anywhere."""
    return BUSY_PAGE.format(message=BUSY_MESSAGE[0].upper() + BUSY_MESSAGE[1:],
                            max_kernels=max_kernels)


@dataclass(frozen=True)
class KernelLimits:
    """How many dashboard kernels may run, and how long a page has to connect to its kernel."""

    max_kernels: int
    connect_s: float = KERNEL_CONNECT_S


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable), or None where it cannot be read."""
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def default_max_kernels(available: int | None, cpus: int | None) -> int:
    """The cap when VOICELAB_MAX_KERNELS is unset: available memory / 250 MB, and at most
    KERNELS_PER_CPU per CPU (kernels starting at once stall a small machine long before they
    fill its memory: 30 on 2 CPUs took 30 s), within [4, 32]."""
    low, high = MAX_KERNELS_DEFAULT
    if available is None:
        return low
    by_cpu = KERNELS_PER_CPU * (cpus or 1)
    return max(low, min(high, by_cpu, available // KERNEL_BUDGET_BYTES))


def kernel_limits(environ: Mapping[str, str]) -> KernelLimits:
    """VOICELAB_MAX_KERNELS and VOICELAB_KERNEL_CONNECT_S from `environ`, validated.

    Raises:
        ConfigError: naming the variable whose value is not usable.
    """
    least = len(PREHEATED) + 1  # the preheated kernels count, and a page needs one more
    raw = environ.get("VOICELAB_MAX_KERNELS", "").strip()
    if raw:
        try:
            max_kernels = int(raw)
        except ValueError:
            max_kernels = 0
        if max_kernels < least:
            raise ConfigError("VOICELAB_MAX_KERNELS", raw,
                              f"expected a whole number of at least {least} (the "
                              f"{len(PREHEATED)} preheated kernels count toward it)")
    else:
        max_kernels = default_max_kernels(available_memory(), os.cpu_count())
    raw = environ.get("VOICELAB_KERNEL_CONNECT_S", "").strip()
    connect_s = KERNEL_CONNECT_S
    if raw:
        try:
            connect_s = float(raw)
        except ValueError:
            connect_s = math.nan
        if not (math.isfinite(connect_s) and connect_s > 0):
            raise ConfigError("VOICELAB_KERNEL_CONNECT_S", raw,
                              "expected a number of seconds above 0, e.g. 30")
    return KernelLimits(max_kernels, connect_s)


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


def voila_config(host: str, port: int, limits: KernelLimits | None = None) -> Any:
    """Voila's configuration for `voicelab serve` (a traitlets Config; no config files read)."""
    from traitlets.config import Config

    limits = limits or kernel_limits({})

    config = Config()
    config.Voila.update(ip=host, port=port, port_retries=0, open_browser=False,
                        config_file_paths=[])
    # No tracebacks in pages: with --host beyond loopback, strangers would read them.
    config.VoilaConfiguration.update(preheat_kernel=True, default_pool_size=1,
                                     show_tracebacks=False)
    # Notebook 7's JupyterLab extension (installed for the audio leads) needs a newer
    # JupyterLab than Voila's page bundles and fails there with a console error; pages need none.
    config.VoilaConfiguration.extension_denylist = ["@jupyter-notebook/lab-extension"]
    # A preheated kernel runs its notebook before any visit: only the dashboards get one,
    # never generate.ipynb (that one runs a job).
    config.VoilaKernelManager.kernel_pools_config = {
        "default": {"pool_size": 0}, **{nb: {"pool_size": 1} for nb in PREHEATED}}
    config.MappingKernelManager.update(cull_idle_timeout=CULL_IDLE_S,
                                       cull_interval=CULL_INTERVAL_S)
    config.BoundedKernelManager.update(max_kernels=limits.max_kernels,
                                       connect_timeout=limits.connect_s)
    return config


class PageTicket:
    """One admitted page request's kernel slot, held until its kernel holds it.

    Admission reserves the slot; it passes to the kernel the request starts (or to the pool's
    refill when the request takes a warm kernel) in the same step, so the count never dips or
    doubles. While the request is in progress its kernel is "attached" and never reaped.
    """

    def __init__(self, manager: Any) -> None:
        self.manager, self.reserved = manager, True
        self.kernel_id: str | None = None
        self.abandoned = False

    def release(self) -> None:
        if self.reserved:
            self.reserved = False
            self.manager.release_slot()

    def attach(self, kernel_id: str) -> None:
        self.kernel_id = kernel_id
        self.manager.attached.add(kernel_id)

    def abandon(self) -> None:
        """The client closed the connection: no kernel is started or handed out for it now.

        A kernel it already has stays until Voila has finished rendering into it (shutting it
        down mid-render only fills the log with DeadKernelError tracebacks), then goes.
        """
        self.abandoned = True

    def close(self) -> None:
        """The request is over: its kernel now has the connect deadline to be connected to,
        unless its client has left (then nothing will ever connect: it goes now)."""
        self.release()
        if self.kernel_id:
            self.manager.attached.discard(self.kernel_id)
            if self.abandoned:
                self.manager.shut_down_soon(self.kernel_id, "its client left")


class PageKernels:
    """The kernel manager as Voila's render handler sees it for one admitted request.

    Voila's handler takes its kernel in one of two calls, `get_rendered_notebook` (a warm
    pool kernel) or `start_kernel` (a cold one); both pass the request's ticket on.
    """

    def __init__(self, manager: Any, ticket: PageTicket) -> None:
        self._manager, self._ticket = manager, ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def _check_client(self) -> None:
        import tornado.web

        if self._ticket.abandoned:  # 499, as nginx logs it: nobody is there to read a reply
            raise tornado.web.HTTPError(499, reason="Client Closed Request")

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        self._check_client()
        try:
            render_task, rendered, kernel_id = await self._manager.get_rendered_notebook(
                *args, **kwargs)
        finally:
            self._ticket.release()  # the pool's refill holds the request's slot now
        if self._ticket.abandoned:  # it left while the kernel was warming up: nobody wants it
            render_task.cancel()
            self._manager.shut_down_soon(kernel_id, "its client left before it was ready")
            self._check_client()
        self._ticket.attach(kernel_id)
        return render_task, rendered, kernel_id

    async def start_kernel(self, **kwargs: Any) -> str:
        self._check_client()
        kernel_id = kwargs.pop("kernel_id", None) or self._manager.new_kernel_id()
        self._ticket.attach(kernel_id)
        self._ticket.release()  # the starting kernel counts from here on, in this same step
        kernel_id = await self._manager.start_kernel(kernel_id=kernel_id, **kwargs)
        return str(kernel_id)


def _kernel_manager_class() -> type:
    """Jupyter's kernel manager with the cap and the connect deadline (built on first use).

    Voila builds its pooling manager on top of this class (VoilaConfiguration's
    multi_kernel_manager_class), so pool kernels start through `start_kernel` here as well.
    The count is exact: kernels running or starting, plus pool refills queued but not started
    yet, plus admitted requests that have not taken their kernel yet.
    """
    import asyncio

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado.ioloop import PeriodicCallback
    from traitlets import Float, Integer

    class BoundedKernelManager(AsyncMappingKernelManager):  # type: ignore[misc]
        max_kernels = Integer(MAX_KERNELS_DEFAULT[0], config=True,
                              help="Kernels running at most, preheated ones included.")
        connect_timeout = Float(KERNEL_CONNECT_S, config=True,
                                help="Seconds a page has to open its kernel's websocket.")

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._reserved = 0
            self._starting: set[str] = set()
            self._claims: dict[asyncio.Task[Any], str] = {}  # task -> the kernel it started
            self._pool_tasks: set[asyncio.Task[Any]] = set()  # pool fills not finished yet
            self.attached: set[str] = set()  # kernels of page requests in progress
            self._connected: set[str] = set()
            self._unwatched_since: dict[str, float] = {}
            self._reaping: dict[str, asyncio.Future[None]] = {}  # kernel -> its shutdown
            self._reaper: Any = None
            self._refused, self._refused_logged_at = 0, -math.inf

        # --- the books --------------------------------------------------------------------

        def _refresh_pool_tasks(self) -> None:
            for pool in getattr(self, "_pools", {}).values():
                for task in pool:
                    if not task.done() and task not in self._pool_tasks:
                        self._pool_tasks.add(task)
                        task.add_done_callback(self._pool_tasks.discard)

        def kernel_count(self) -> int:
            """Kernels running or starting, and pool refills queued to start one."""
            self._refresh_pool_tasks()
            queued = sum(1 for task in self._pool_tasks
                         if not task.done() and task not in self._claims)
            return len(self._starting.union(self._kernels)) + queued

        def admit(self) -> bool:
            """Reserve a kernel for a page request, unless that would pass the cap."""
            if self.kernel_count() + self._reserved >= self.max_kernels:
                return False
            self._reserved += 1
            return True

        def release_slot(self) -> None:
            self._reserved = max(0, self._reserved - 1)

        def note_refusal(self, path: str) -> None:
            """Log refusals at most every REFUSALS_LOG_S (tornado logs each 503 anyway)."""
            self._refused += 1
            now = time.monotonic()
            if now - self._refused_logged_at >= REFUSALS_LOG_S:
                self.log.warning("Refused %d page request(s), the last for %s: %d kernels of at "
                                 "most %d (VOICELAB_MAX_KERNELS)", self._refused, path,
                                 self.kernel_count(), self.max_kernels)
                self._refused, self._refused_logged_at = 0, now

        async def start_kernel(self, *, kernel_id: str | None = None, **kwargs: Any) -> str:
            kernel_id = kernel_id or self.new_kernel_id()
            task = asyncio.current_task()
            if task is not None and task not in self._claims:
                self._claims[task] = kernel_id
                task.add_done_callback(lambda done: self._claims.pop(done, None))
            self._starting.add(kernel_id)
            try:
                started: str = await super().start_kernel(kernel_id=kernel_id, **kwargs)
            finally:
                self._starting.discard(kernel_id)
            return started

        def notify_connect(self, kernel_id: str) -> None:
            super().notify_connect(kernel_id)
            self._connected.add(kernel_id)

        # --- the connect deadline ---------------------------------------------------------

        def initialize_culler(self) -> None:
            super().initialize_culler()
            if self._reaper is None:
                interval_s = max(0.2, min(1.0, self.connect_timeout / 10))
                self._reaper = PeriodicCallback(self._reap, interval_s * 1000)
                self._reaper.start()

        def _pooled(self) -> set[str]:
            """Kernels waiting in a pool, or being made ready for one."""
            ids = {kernel_id for task, kernel_id in self._claims.items()
                   if task in self._pool_tasks and not task.done()}
            for pool in getattr(self, "_pools", {}).values():
                for task in pool:
                    if task.done() and not task.cancelled() and task.exception() is None:
                        ids.add(task.result()["kernel_id"])
            return ids

        def _reap(self) -> None:
            """Shut down page kernels whose page has not connected within the deadline."""
            now = time.monotonic()
            alive = self._starting.union(self._kernels)
            self._refresh_pool_tasks()
            kept = self._pooled() | self.attached | self._connected | set(self._reaping)
            unwatched = set(self._kernels) - self._starting - kept
            for kernel_id in unwatched:
                since = self._unwatched_since.setdefault(kernel_id, now)
                if now - since >= self.connect_timeout:
                    self.shut_down_soon(kernel_id, f"no page connected to it within "
                                                   f"{self.connect_timeout:g} s")
            for kernel_id in set(self._unwatched_since) - unwatched:
                del self._unwatched_since[kernel_id]
            self._connected &= alive
            _forget_request_info(alive)

        def shut_down_soon(self, kernel_id: str, why: str) -> None:
            """Shut a page's kernel down that no page uses (unless one has connected after all)."""
            if kernel_id not in self._reaping and kernel_id not in self._connected:
                self._reaping[kernel_id] = asyncio.ensure_future(self._shut_down(kernel_id, why))

        async def _shut_down(self, kernel_id: str, why: str) -> None:
            self.log.warning("Shutting down kernel %s: %s", kernel_id, why)
            try:
                if kernel_id in self:  # now: nothing in it is anyone's, so no graceful exit
                    await self.shutdown_kernel(kernel_id, now=True)
            except Exception:
                self.log.exception("Could not shut down kernel %s", kernel_id)
            finally:
                self._reaping.pop(kernel_id, None)

        async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
            if self._reaper is not None:
                self._reaper.stop()
            await super().shutdown_all(*args, **kwargs)

    return BoundedKernelManager


def _forget_request_info(alive: set[str]) -> None:
    """Drop Voila's cached request info of kernels that are gone (it never does)."""
    from voila.request_info_handler import RequestInfoSocketHandler

    cache = RequestInfoSocketHandler._cache
    for kernel_id in [k for k in cache if k not in alive]:
        del cache[kernel_id]


def _starts_a_kernel(path: str | None) -> bool:
    return bool(path) and Path(str(path)).suffix.lower() == ".ipynb"


def _voila_class() -> type:
    """The Voila subclass; built on first use so importing this module stays light."""
    import tornado.web
    import tornado.wsgi
    from jupyter_core.utils import ensure_async
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class RenderHandler(TornadoVoilaHandler):  # type: ignore[misc]
        """Voila's render handler, plus the `_xsrf` cookie the unload beacon needs, and the cap.

        A request for a notebook is admitted only if a kernel slot is free; otherwise it gets
        the plain 503 page and no kernel starts.
        """

        _ticket: PageTicket | None = None

        async def prepare(self) -> None:
            await ensure_async(super().prepare())  # sets current_user, which the cookie needs
            self.xsrf_token  # noqa: B018  # reading it sets the cookie

        @property
        def kernel_manager(self) -> Any:
            manager = self.settings["kernel_manager"]
            return manager if self._ticket is None else PageKernels(manager, self._ticket)

        @tornado.web.authenticated
        async def get(self, path: str | None = None) -> None:
            if _starts_a_kernel(path):
                manager = self.settings["kernel_manager"]
                if not manager.admit():
                    self.refuse(manager)
                    return
                self._ticket = PageTicket(manager)
            await super().get(path=path)

        def refuse(self, manager: Any) -> None:
            manager.note_refusal(self.request.path)
            self.set_status(503)
            self.set_header("Retry-After", str(RETRY_AFTER_S))
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(busy_page(manager.max_kernels))

        def on_connection_close(self) -> None:
            if self._ticket is not None:
                self._ticket.abandon()
            super().on_connection_close()

        def on_finish(self) -> None:
            if self._ticket is not None:
                self._ticket.close()
            super().on_finish()

    class HealthHandler(tornado.web.RequestHandler):
        """`GET /healthz`: the kernel books, read without touching a kernel or a sign-in."""

        def get(self) -> None:
            manager = self.settings["kernel_manager"]
            self.set_header("Cache-Control", "no-store")
            self.finish({"status": "ok", "kernels": manager.kernel_count(),
                         "max_kernels": manager.max_kernels})

    class VoicelabVoila(Voila):  # type: ignore[misc]
        """Voila with the API, /audio, the redirect and local static files in front."""

        flask_app: Any = None

        def setup_template_dirs(self) -> None:
            super().setup_template_dirs()
            self.template_paths = [str(TEMPLATE_OVERRIDES), *self.template_paths]

        def init_settings(self) -> dict[str, Any]:
            self.voila_configuration.multi_kernel_manager_class = _kernel_manager_class()
            settings: dict[str, Any] = super().init_settings()
            return settings

        def init_handlers(self) -> list[Any]:
            container = tornado.wsgi.WSGIContainer(
                self.flask_app, executor=ThreadPoolExecutor(API_THREADS, "api"))
            ours = [
                (HEALTH_PATH, HealthHandler),
                ("/", tornado.web.RedirectHandler,
                 {"url": f"/voila/render/{BATCH_LIST}", "permanent": False}),
                (api_path_pattern(_flask_rules(self.flask_app)), tornado.web.FallbackHandler,
                 {"fallback": container}),
            ]
            theirs = [
                (h[0], RenderHandler, *h[2:]) if h[1] is TornadoVoilaHandler else h
                for h in super().init_handlers()
            ]
            return [*ours, *theirs]

    return VoicelabVoila


def child_env(settings: Settings) -> dict[str, str]:
    """The environment for kernels and the worker: this one, with AUDIO_ROOT made absolute.

    Kernels run in notebooks/, so a relative AUDIO_ROOT (the default `./output`) would point
    somewhere else there.
    """
    return {**os.environ, "AUDIO_ROOT": str(Path(settings.audio_root).resolve())}


def urls(host: str, port: int) -> dict[str, str]:
    """The addresses `voicelab serve` prints; others may link to them."""
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return {
        "batches": f"{base}/",
        "rank board": dashboard_url(base, RANK_BOARD) + "?batch_id=<id>",
        "launch": dashboard_url(base, "launch.ipynb"),
        "dashboards": f"{base}/voila/tree",
        "API": f"{base}/api/openapi.json",
        "audio": f"{base}/audio/<skin>/<voice>/<batch>/takes/<file>",
        "health": f"{base}{HEALTH_PATH}",
    }


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8866, worker: bool = True,
          demo: bool = True, open_browser: bool = False, *, notebooks: Path | None = None) -> None:
    """Serve dashboards, API and audio on http://host:port until SIGINT/SIGTERM.

    With `worker`, a `voicelab worker` subprocess runs generation jobs and is terminated with
    the server. With `demo`, a first run on an AUDIO_ROOT without batches makes a small Piper
    batch first (about 10 s).

    Raises:
        ConfigError: the port is taken, VOICELAB_MAX_KERNELS or VOICELAB_KERNEL_CONNECT_S is
            unusable, or as api.create_app.
    """
    from api import create_app

    limits = kernel_limits(os.environ)
    if not port_free(host, port):
        raise ConfigError("--port", port, f"already in use on {host}; pick another port")
    env = child_env(settings)
    os.environ.update(env)  # kernels inherit the server's environment
    if demo:
        from voicelab.demo import ensure_demo_batch

        batch_id = ensure_demo_batch(settings)
        if batch_id:
            print(f"made a demo batch to rank: {batch_id}", flush=True)
    app = _voila_class()(config=voila_config(host, port, limits))
    print(f"dashboards: at most {limits.max_kernels} kernels at once (VOICELAB_MAX_KERNELS)",
          flush=True)
    app.flask_app = create_app(settings)
    app.initialize([str(notebooks or settings.notebooks_dir)])
    with contextlib.ExitStack() as stack:
        if worker:
            stack.enter_context(Supervisor([sys.executable, "-m", "voicelab", "worker"], env))
        _announce(host, port, open_browser)
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

