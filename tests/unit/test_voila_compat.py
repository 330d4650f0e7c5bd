"""The seam to Voila, jupyter_server and tornado: every unpublished name VoiceLab relies on
(voicelab/dashboards/voila_compat.py) still exists in the installed versions, with the shape
VoiceLab expects. After an upgrade, a failure here names what moved; fix voila_compat.py (and
re-run tests/browser/test_kernel_cap.py and tests/browser/test_sign_in.py).

The public hooks VoiceLab uses instead of private names are checked at the end, so a release
that drops one of those fails here too.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.own_loop import run_in_own_loop
from tests.redis_server import free_port
from voicelab.dashboards import server, voila_compat

PACKAGE = Path(voila_compat.__file__).resolve().parents[1]


def source(obj: Any) -> str:
    return inspect.getsource(obj)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- Voila's app: the handler table ------------------------------------------------------------


@pytest.fixture
def voila_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`voila_compat.voila_app_class`'s app, initialized (not started) on an empty folder with
    serve's configuration, recording how it swapped Voila's handlers."""
    monkeypatch.setenv("JUPYTER_PATH", server.jupyter_path_with_template(None))
    swapped: list[tuple[str | None, type]] = []

    def replace(role: str | None, cls: type) -> type:
        swapped.append((role, cls))
        return cls

    app_class = voila_compat.voila_app_class(lambda app: [("/ours", object)], replace)
    app = app_class(config=server.voila_config("127.0.0.1", 1))
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        app.initialize([str(tmp_path)])  # no notebooks there: no pool kernel starts
        app.init_settings()
        app.swapped = swapped
        yield app
    finally:
        signal.signal(signal.SIGTERM, sigterm)  # Voila.initialize sets its own


def test_voila_init_handlers_lists_the_handlers_voicelab_replaces(voila_app: Any) -> None:
    from voila.app import Voila

    assert parameters(Voila.init_handlers) == ["self"], "Voila.init_handlers changed signature"
    routes = voila_app.init_handlers()
    assert routes[0] == ("/ours", object)  # ours come first
    assert all(isinstance(r, tuple) and isinstance(r[1], type) for r in routes), \
        "Voila.init_handlers no longer returns (pattern, handler class, ...) tuples"
    roles = [role for role, _ in voila_app.swapped if role]
    assert sorted(roles) == sorted([voila_compat.RENDER, voila_compat.SHUTDOWN,
                                    voila_compat.REQUEST_INFO]), (
        f"Voila.init_handlers routes {roles} of the handlers voila_compat.handler_roles names")
    by_role = {role: r for r, (role, _) in zip(routes[1:], voila_app.swapped, strict=True)}
    assert by_role[voila_compat.RENDER][0].endswith("voila/render/(.*)")
    assert by_role[voila_compat.SHUTDOWN][0].endswith("voila/api/shutdown/(.*)")
    assert "voila/query/" in by_role[voila_compat.REQUEST_INFO][0]


def test_the_page_template_is_voilas_lab_plus_ours(voila_app: Any) -> None:
    """The template `voicelab` is found on JUPYTER_PATH and extends `lab` (no private hook)."""
    paths = voila_app.template_paths
    assert Path(paths[0]) == server.TEMPLATE_OVERRIDES
    assert any(Path(p).parts[-3:] == ("voila", "templates", "lab") for p in paths)
    assert voila_app.voila_configuration.template == server.TEMPLATE


def test_voilas_handlers_take_what_voicelab_overrides() -> None:
    from jupyter_server.base.handlers import JupyterHandler
    from voila.handler import VoilaHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.handler import TornadoVoilaHandler

    roles = voila_compat.handler_roles()
    assert set(roles.values()) == {voila_compat.RENDER, voila_compat.SHUTDOWN,
                                   voila_compat.REQUEST_INFO}
    # The render handler: RenderHandler overrides get(path) and the kernel_manager property.
    assert parameters(TornadoVoilaHandler.get) == ["self", "path"]
    assert isinstance(inspect.getattr_static(JupyterHandler, "kernel_manager"), property)
    generator = source(VoilaHandler.get_generator)
    # It takes its kernel through these two calls, which PageKernels wraps.
    assert re.search(r"render_task,\s*rendered_cache,\s*kernel_id,?\s*\)\s*=\s*await "
                     r"self\.kernel_manager\.get_rendered_notebook\(", generator), \
        "VoilaHandler no longer unpacks get_rendered_notebook's (task, cache, kernel id)"
    assert "self.kernel_manager.start_kernel(" in generator
    assert parameters(VoilaShutdownKernelHandler.post) == ["self", "kernel_id"]


# --- Voila's kernel pools --------------------------------------------------------------------


def pooling_class() -> type:
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    made: type = voila_kernel_manager_factory(AsyncMappingKernelManager, True, 1)
    return made


def test_a_pool_is_a_list_of_tasks_per_notebook_in_pools(tmp_path: Path) -> None:
    from traitlets.config import Configurable

    class App(Configurable):  # what VoilaKernelManager reads of its parent
        root_dir, notebook_path, base_url, server_url, port = str(tmp_path), None, "/", "/", 1

    async def fill() -> list[asyncio.Task[Any]]:
        manager = pooling_class()(parent=App(), kernel_pools_config={"nb.ipynb": {"pool_size": 1}})
        manager.fill_if_needed(delay=0, notebook_name="nb.ipynb")
        tasks = list(voila_compat.pool_tasks(manager))
        await asyncio.gather(*tasks, return_exceptions=True)  # fails: this parent is no app
        return tasks

    tasks = run_in_own_loop(fill())
    assert len(tasks) == 1 and all(isinstance(t, asyncio.Task) for t in tasks), \
        "VoilaKernelManager._pools no longer holds a list of tasks per notebook"
    assert voila_compat.pool_kernel_id(tasks[0]) is None  # it failed: no kernel


def test_a_pool_task_gives_its_kernel_id_and_get_rendered_notebook_a_3_tuple() -> None:
    cls = pooling_class()
    assert re.search(r'return \{\s*"task": task,\s*"renderer": renderer,\s*"kernel_id": '
                     r'kernel_id\s*\}', source(cls._initialize)), \
        "a pool task's result is no longer {task, renderer, kernel_id}"
    assert parameters(cls.get_rendered_notebook)[:3] == [
        "self", "notebook_name", "extra_kernel_env_variables"]

    async def take() -> tuple[Any, asyncio.Task[Any], asyncio.Task[Any]]:
        render = asyncio.ensure_future(asyncio.sleep(0))
        renderer = SimpleNamespace(stop_generator=False, rendered_cache=["<p>cell</p>"])

        async def warmed() -> dict[str, Any]:
            return {"task": render, "renderer": renderer, "kernel_id": "k1"}

        pool_task = asyncio.ensure_future(warmed())
        await pool_task
        manager = SimpleNamespace(_pools={"nb.ipynb": [pool_task]}, log=SimpleNamespace(
            info=lambda *a: None), fill_if_needed=lambda **kwargs: None)
        assert voila_compat.pool_kernel_id(pool_task) == "k1"
        assert list(voila_compat.pool_tasks(manager)) == [pool_task]
        rendered = await cls.get_rendered_notebook(manager, notebook_name="nb.ipynb")
        await render
        return rendered, render, pool_task

    rendered, render, _ = run_in_own_loop(take())
    assert voila_compat.rendered_notebook_parts(rendered) == (render, "k1")
    assert rendered[1] == ["<p>cell</p>"]


# --- the request info a preheated kernel waits for ---------------------------------------------


def test_request_info_is_cached_per_kernel_until_forgotten() -> None:
    from tornado.websocket import WebSocketHandler
    from voila.request_info_handler import RequestInfoSocketHandler

    assert issubclass(RequestInfoSocketHandler, WebSocketHandler)
    assert isinstance(RequestInfoSocketHandler._cache, dict), \
        "RequestInfoSocketHandler._cache is gone"
    RequestInfoSocketHandler.send_updates({"kernel_id": "gone-kernel", "payload": {"A": "1"}})
    assert RequestInfoSocketHandler._cache["gone-kernel"] == {"A": "1"}
    voila_compat.forget_request_info(alive=set())
    assert "gone-kernel" not in RequestInfoSocketHandler._cache


def test_wait_for_request_returns_at_once_outside_a_preheated_kernel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    assert voila_compat.wait_for_request() is None


def test_voilas_own_wait_for_request_speaks_the_exchange_the_seam_does() -> None:
    """The seam does what `voila.utils.wait_for_request` does without importing it: the same
    variables, the same socket path, one JSON message of variables."""
    from voila.utils import wait_for_request

    text = source(wait_for_request) + source(importlib.import_module("voila.utils")
                                             ._get_request_info)
    for name in ("VOILA_PREHEAT", "VOILA_WS_PROTOCOL", "VOILA_APP_IP", "VOILA_APP_PORT",
                 "VOILA_SERVER_URL", "VOILA_WS_BASE_URL", "VOILA_KERNEL_ID"):
        assert f"ENV_VARIABLE.{name}" in text, f"Voila no longer reads {name}"
    assert '{ws_base_url}voila/query"' in text and 'ws_url = f"{url}/{kernel_id}"' in text, \
        "Voila's request-info socket moved"
    assert "websocket.recv()" in text and "json.loads(request_info).items()" in text


def test_a_preheated_kernel_gets_its_page_request_from_voilas_own_socket(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Against Voila's RequestInfoSocketHandler on loopback: the info a page request left for
    this kernel lands in os.environ."""
    import json

    import tornado.web
    from voila.request_info_handler import RequestInfoSocketHandler

    port = free_port()
    ready, stop = threading.Event(), threading.Event()

    def serve() -> None:
        async def main() -> None:
            app = tornado.web.Application([(r"/base/voila/query/(.*)", RequestInfoSocketHandler)])
            server = app.listen(port, address="127.0.0.1")
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        RequestInfoSocketHandler.send_updates(  # the page came first: Voila keeps it for the kernel
            {"kernel_id": "k-seam", "payload": json.dumps({"QUERY_STRING": "batch_id=b1"})})
        for name, value in {"VOILA_PREHEAT": "True", "VOILA_APP_PORT": str(port),
                            "VOILA_SERVER_URL": "/base/", "VOILA_KERNEL_ID": "k-seam"}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("QUERY_STRING", raising=False)
        voila_compat.wait_for_request()
        assert os.environ["QUERY_STRING"] == "batch_id=b1"
    finally:
        RequestInfoSocketHandler._cache.pop("k-seam", None)
        stop.set()
        thread.join(10)


def test_a_preheated_dashboard_kernel_never_imports_voila() -> None:
    """Importing Voila imports its whole server (2.7 s of CPU per preheated kernel): a kernel
    that waits for its page (here, one whose socket refuses) must not."""
    code = ("import sys, warnings, voicelab.widgets.views as views; "
            "warnings.simplefilter('ignore'); views.wait_for_visit(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('voila', 'jupyter_server', 'jsonschema')))")
    env = {**os.environ, "VOILA_PREHEAT": "True", "VOILA_APP_PORT": str(free_port()),
           "VOILA_KERNEL_ID": "k-none"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout[:300]


# --- nothing else reaches past the seam ------------------------------------------------------


PRIVATE_ACCESS = re.compile(
    r"\._(?:pools|kernels|pending_kernels|cache|reason|token_authenticated|waiters|initialize)\b"
    r"|\bfrom voila\b|\bimport voila\b")


def test_only_the_seam_names_voila_or_private_names_of_jupyter_and_tornado() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "voila_compat.py":
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if PRIVATE_ACCESS.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert offenders == [], "use voicelab.dashboards.voila_compat:\n" + "\n".join(offenders)


# --- the public hooks used instead -------------------------------------------------------------


def test_the_public_hooks_voicelab_uses_are_there() -> None:
    from jupyter_client.multikernelmanager import MultiKernelManager
    from jupyter_server.auth.identity import IdentityProvider
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.services.kernels.connection import channels
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado.httputil import responses
    from tornado.web import HTTPError
    from voila.app import Voila
    from voila.configuration import VoilaConfiguration

    for trait in ("multi_kernel_manager_class", "template", "preheat_kernel",
                  "http_header_envs", "extension_allowlist", "resources"):
        assert VoilaConfiguration.class_traits(config=True).get(trait), trait
    for trait in ("identity_provider_class", "authorizer_class"):
        assert Voila.class_traits(config=True).get(trait), trait
    # Sign-in: who a request is from, and whether a script sent it (no XSRF check then).
    assert parameters(IdentityProvider.is_token_authenticated) == ["self", "handler"]
    assert "identity_provider.is_token_authenticated(self)" in source(
        inspect.getattr_static(JupyterHandler, "token_authenticated").fget)
    # The cap: the kernels running, their start, and a page's websocket opening.
    assert callable(MultiKernelManager.list_kernel_ids)
    start = inspect.signature(AsyncMappingKernelManager.start_kernel).parameters
    assert start["kernel_id"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "notify_connect(self.kernel_id)" in source(channels), \
        "jupyter_server no longer tells the kernel manager when a page's websocket opens"
    assert callable(AsyncMappingKernelManager.initialize_culler)
    # Plain error pages: an HTTPError's reason, or the standard phrase.
    assert HTTPError(499, reason="Client Closed Request").reason == "Client Closed Request"
    assert responses[403] == "Forbidden"
