"""Production serving with gunicorn (threads per worker so long queries never block cheap ones)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from .. import memory
from ..config import Settings


def default_workers() -> int:
    """One process per core (at least two): SPARQL queries run in each worker's query process, outside the GIL,
    so more workers add no throughput (measured at 1M triples on 2 cores: hello, cached documents and cached
    answers at the same rate with 2 workers as with 4), while each holds an opening of the store and its caches
    (~100-300 MB at a million triples) and a query process of its own."""
    return max(2, os.cpu_count() or 1)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn configuration of ``serve`` (the benchmark's "hello" ceiling runs with the very same)."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers or default_workers(),
        "threads": settings.threads,
        "worker_class": "gthread",
        "timeout": int(settings.query_timeout_s) + 30,
        "accesslog": None,  # the app logs each request once, as JSON (graph_service.web.access_log)
        "limit_request_line": 8190,  # gunicorn's most: GET queries up to ~8 KB (longer ones: POST)
        "preload_app": False,  # each worker opens the store itself, read-only
        "pre_request": _note_start,
        "post_request": _release_after_costly_request,
    }


def _note_start(worker: Any, req: Any) -> None:
    req.aiwatch_started = time.monotonic()


def _release_after_costly_request(worker: Any, req: Any, environ: dict, resp: Any) -> None:
    """A worker gives back what a costly request took (graph_service.memory), once it is answered."""
    started = getattr(req, "aiwatch_started", None)
    if started is not None:
        memory.after_work(time.monotonic() - started)


class _GunicornApp(BaseApplication):
    def __init__(self, settings: Settings, app_factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.app_factory = app_factory
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)
        from . import limits

        limits.share_across_processes()  # in the master: the workers it forks share the per-client counters

    def load(self):
        if self.app_factory is not None:
            return self.app_factory()
        from . import access_log, create_app

        access_log.log_to(self.settings.access_log)
        return create_app(self.settings)


def run_production(settings: Settings, app_factory: Callable[[], Any] | None = None) -> None:
    """Serve the faces (or, for the benchmark, the WSGI app ``app_factory`` builds) until stopped."""
    _GunicornApp(settings, app_factory).run()
