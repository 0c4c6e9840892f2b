"""The ceiling: a bare Flask "hello" app, served by gunicorn with exactly the settings ``graph-service serve`` uses.

Whatever our endpoints do costs time on top of what Flask and gunicorn cost for an empty answer; the benchmark
reports our throughput as a fraction of this one's.
"""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/hello")
    def hello() -> tuple[str, int, dict[str, str]]:
        return "hello\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m graph_service.bench.hello --port P --workers W --threads T``: serve it like ``serve`` would."""
    import argparse

    from ..config import Settings
    from ..web.server import run_production

    parser = argparse.ArgumentParser(description="the benchmark's hello ceiling, under serve's gunicorn settings")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    settings = Settings.from_env(host="127.0.0.1", port=args.port, workers=args.workers, threads=args.threads)
    run_production(settings, create_app)


if __name__ == "__main__":
    main()
