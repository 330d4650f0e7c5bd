"""The seam between `voicelab serve` and Voila 0.5, jupyter_server 2 and tornado 6.

Every name of theirs that VoiceLab uses but they do not publish is used here and nowhere else,
each with the reason no public hook does the job. tests/unit/test_voila_compat.py imports the
installed packages and checks each of these names and shapes, so an upgrade that moves one fails
there, naming it. The rest of VoiceLab uses their public surface only:
- sign-in: jupyter_server's `IdentityProvider` (`get_user`, `get_handlers`,
  `is_token_authenticated`) and `Authorizer`, as `Voila.identity_provider_class` and
  `Voila.authorizer_class`;
- the kernel cap: `VoilaConfiguration.multi_kernel_manager_class` (Voila builds its pooling
  manager on top of that class), jupyter_client's `list_kernel_ids`, `start_kernel`,
  `shutdown_kernel`, and jupyter_server's `notify_connect` and `initialize_culler`;
- the page template: a Voila template named `voicelab` (`VoilaConfiguration.template`, found
  through `JUPYTER_PATH`) whose `conf.json` extends `lab`;
- the preheated pools: `VoilaConfiguration.preheat_kernel`, `VoilaKernelManager.
  kernel_pools_config`.

Nothing here imports Voila or Jupyter at module level: the widgets call `wait_for_request` in
every dashboard kernel, and `voicelab serve` builds its classes on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# What Voila's own handlers are to VoiceLab (`voila_app_class` hands each to `replace`).
RENDER = "render"  # voila.tornado.handler.TornadoVoilaHandler: renders a notebook into a page
SHUTDOWN = "shutdown"  # voila.shutdown_kernel_handler.VoilaShutdownKernelHandler: unload beacon
REQUEST_INFO = "request_info"  # voila.request_info_handler.RequestInfoSocketHandler: the
#   websocket through which a preheated kernel learns its page's request

HandlerSpec = tuple[Any, ...]


def handler_roles() -> dict[type, str]:
    """Voila's handler classes VoiceLab replaces, by role."""
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.handler import TornadoVoilaHandler

    return {TornadoVoilaHandler: RENDER, VoilaShutdownKernelHandler: SHUTDOWN,
            RequestInfoSocketHandler: REQUEST_INFO}


def voila_app_class(front: Callable[[Any], list[HandlerSpec]],
                    replace: Callable[[str | None, type], type]) -> type:
    """A `voila.app.Voila` serving `front(app)`'s routes first, then Voila's own, each of
    Voila's handler classes swapped for `replace(role, cls)` (role: RENDER, SHUTDOWN,
    REQUEST_INFO, or None for the others).

    Non-public: `Voila.init_handlers` (undocumented): Voila's own app has no hook that adds
    routes in front of its own or wraps its handlers (the cap and sign-in need both).
    """
    from voila.app import Voila

    roles = handler_roles()

    class VoicelabVoila(Voila):
        def init_handlers(self) -> list[HandlerSpec]:
            theirs: list[HandlerSpec] = super().init_handlers()
            swapped = [(spec[0], replace(roles.get(spec[1]), spec[1]), *spec[2:])
                       for spec in theirs]
            return [*front(self), *swapped]

    return VoicelabVoila


def pool_tasks(manager: Any) -> Iterator[asyncio.Task[Any]]:
    """The tasks in Voila's kernel pools, one per pool kernel being started or waiting.

    Non-public: `VoilaKernelManager._pools` (notebook -> list of tasks): the public
    `get_pool_size` counts them but cannot say which have started their kernel yet, and the
    cap counts a queued refill before it starts one.
    """
    for pool in getattr(manager, "_pools", {}).values():
        yield from pool


def pool_kernel_id(task: asyncio.Task[Any]) -> str | None:
    """The kernel a finished pool task warmed up, or None (not finished, or it failed).

    Non-public: the result of a pool task, `{"kernel_id", "renderer", "task"}` (what
    `VoilaKernelManager._initialize` returns); Voila publishes no list of its pooled kernels.
    """
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return str(task.result()["kernel_id"])


def rendered_notebook_parts(rendered: Any) -> tuple[asyncio.Task[Any], str]:
    """The render task and kernel id in what `get_rendered_notebook` returned.

    Non-public: its shape, `(render_task, rendered_cache, kernel_id)`, which Voila's handler
    unpacks (the method's annotation says a 2-tuple); the cap wraps that method to learn which
    warm kernel a page took.
    """
    render_task, _rendered_cache, kernel_id = rendered
    return render_task, str(kernel_id)


def forget_request_info(alive: set[str]) -> None:
    """Drop Voila's cached request info of kernels that are gone (Voila never does).

    Non-public: `RequestInfoSocketHandler._cache` (kernel id -> its page request's info, kept
    until a kernel asks): without this, every page served from a preheated kernel whose kernel
    never asked leaks an entry.
    """
    from voila.request_info_handler import RequestInfoSocketHandler

    cache: dict[str, Any] = RequestInfoSocketHandler._cache
    for kernel_id in [k for k in cache if k not in alive]:
        del cache[kernel_id]


def request_info_url(environ: Mapping[str, str]) -> str:
    """The socket a preheated kernel asks for its page's request, from the variables Voila
    starts it with (as `voila.utils.wait_for_request` builds it)."""
    base = environ.get("VOILA_WS_BASE_URL", environ.get("VOILA_SERVER_URL", "/"))
    return (f"{environ.get('VOILA_WS_PROTOCOL', 'ws')}://"
            f"{environ.get('VOILA_APP_IP', '127.0.0.1')}:{environ.get('VOILA_APP_PORT', '8866')}"
            f"{base}voila/query/{environ.get('VOILA_KERNEL_ID')}")


def wait_for_request() -> None:
    """In a preheated kernel, block until a page request takes it and its info is in os.environ.

    Semi-public: the exchange of `voila.utils.wait_for_request` (named in Voila's guide to
    preheated kernels), done here without importing it: `voila.utils` imports Voila's whole
    server (jupyter_server, jupyter_events, jsonschema's grammars), 2.7 s of CPU in every
    preheated kernel. The exchange: the variables Voila starts the kernel with, its
    `voila/query/<kernel id>` socket, one JSON message of variables to set. The seam test
    checks Voila's function still speaks it and runs this against Voila's own handler.
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        return
    from websockets.sync.client import connect

    url = request_info_url(os.environ)
    try:
        with connect(url, open_timeout=5) as socket:
            info = socket.recv()
    except (TimeoutError, OSError):
        warnings.warn(f"Failed to connect to {url}", stacklevel=2)
        return
    os.environ.update(json.loads(info))
