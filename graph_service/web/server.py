"""Production serving with gunicorn (threads per worker so long queries never block cheap ones)."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from ..config import Settings


def default_workers() -> int:
    """Two processes per core: queries spend most of their time in Oxigraph, outside the GIL."""
    return max(2, 2 * (os.cpu_count() or 1))


class _GunicornApp(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        options = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.workers or default_workers(),
            "threads": settings.threads,
            "worker_class": "gthread",
            "timeout": int(settings.query_timeout_s) + 30,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s',
            "preload_app": False,  # each worker opens the store itself, read-only
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app(self.settings)


def run_production(settings: Settings) -> None:
    _GunicornApp(settings).run()
