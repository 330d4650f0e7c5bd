"""The job kernels: papermill in one thread, with the next job's kernel started ahead."""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from voicelab.errors import JobFailed

log = logging.getLogger(__name__)

GENERATE_NOTEBOOK = "generate.ipynb"
WARMUP_CODE = "import voicelab.jobs, voicelab.jobs.runner"


class Kernels:
    """Runs papermill in one thread and keeps the next job's kernel started and warmed up.

    A fresh kernel costs about 0.6 s to start and 1.5-2 s to import VoiceLab (numpy, scipy);
    starting it while the worker waits for work takes that off every job but the first. The
    kernel never sees a job before its own run, and is shut down after it.
    """

    def __init__(self, notebooks_dir: Path) -> None:
        self.notebooks_dir = notebooks_dir
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="papermill")
        self._ready: Any = None

    def prewarm(self) -> concurrent.futures.Future[None]:
        """Start the next kernel in the background (no-op when one is ready)."""
        return self._thread.submit(self._warm)

    def run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        """Execute the notebook for one job; JobFailed when a cell raises."""
        self._thread.submit(self._run, report, config, task_id).result()

    def _warm(self) -> None:
        from jupyter_core.utils import run_sync

        if self._ready is not None:
            return
        # papermill costs about 0.9 s to import, once per worker: done while the kernel starts
        importing = threading.Thread(target=importlib.import_module, args=("papermill",),
                                     name="import-papermill", daemon=True)
        importing.start()
        started = time.monotonic()
        try:
            self._ready = run_sync(self._start)()
            log.info("pre-started a kernel in %.1f s", time.monotonic() - started)
        except Exception:
            log.warning("could not pre-start a kernel; the next job starts its own",
                        exc_info=True)
        importing.join()

    async def _start(self) -> Any:
        km = _kernel_manager()
        await km.start_kernel(cwd=str(self.notebooks_dir))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive(WARMUP_CODE, store_history=False, timeout=120)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warm-up failed: {reply['content'].get('evalue')}")
        except BaseException:
            await km.shutdown_kernel(now=True)
            raise
        finally:
            kc.stop_channels()
        return km

    def close(self) -> None:
        """Shut the pre-started kernel down (the worker is stopping)."""
        def stop() -> None:
            from jupyter_core.utils import run_sync

            km, self._ready = self._ready, None
            if km is not None:
                run_sync(km.shutdown_kernel)(now=True)

        self._thread.submit(stop).result(timeout=30)

    def _run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        import papermill
        from jupyter_core.utils import run_sync
        from papermill.exceptions import PapermillExecutionError

        km, self._ready = self._ready, None
        if km is not None and not run_sync(km.is_alive)():
            km = None
        try:
            notebooks = self.notebooks_dir
            papermill.execute_notebook(
                str(notebooks / GENERATE_NOTEBOOK), str(report),
                parameters={"config": config, "task_id": task_id},
                progress_bar=False, cwd=str(notebooks), kernel_name="python3", km=km,
            )
        except PapermillExecutionError as exc:
            raise JobFailed(f"{exc.ename}: {exc.evalue} (report: {report})") from None
        finally:
            if km is not None:
                for client in km.clients:
                    client.stop_channels()
                self._thread.submit(run_sync(km.shutdown_kernel), now=True)


def _kernel_manager() -> Any:
    """A kernel manager that remembers its clients, so their sockets can be closed."""
    from jupyter_client.manager import AsyncKernelManager

    class Manager(AsyncKernelManager):
        clients: list[Any]

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            self.clients.append(made)
            return made

    km = Manager(kernel_name="python3")
    km.clients = []
    return km


_pools: dict[Path, Kernels] = {}
_pools_lock = threading.Lock()


def pool(notebooks_dir: Path) -> Kernels:
    """This process's kernel pool for a notebooks folder (one per folder, made on first use)."""
    with _pools_lock:
        if notebooks_dir not in _pools:
            _pools[notebooks_dir] = Kernels(notebooks_dir)
        return _pools[notebooks_dir]
