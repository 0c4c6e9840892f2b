"""A query worker process: opens the store read-only and answers :class:`~.jobs.QueryJob` s one at a time.

Started by :mod:`.execution` as ``python -m graph_service.sparql.worker <fd>``, talking over the inherited socket
``fd``: the first message is a zero-argument callable that opens the store, then jobs; each answer is
``("ok", format name, rows)`` followed by the body bytes, or ``("error", QueryError)``. The process ends when the
web process closes the socket, or when the web process dies (a watchdog thread notices the new parent; queries
run outside the GIL, so it gets to run even while one is busy).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from multiprocessing.connection import Connection

from .jobs import QueryError, QueryFailed
from .serialization import execute

_WATCH_INTERVAL_S = 0.5


def _exit_when_orphaned(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_WATCH_INTERVAL_S)
        os._exit(0)  # the web process is gone: nobody will read the answer

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def serve(connection: Connection) -> None:
    try:
        open_store = connection.recv()
        store = open_store()
    except EOFError:
        return
    except Exception as error:  # noqa: BLE001 - reported to the web process, which decides
        connection.send(("error", QueryFailed(f"The query worker cannot open the store: {error}")))
        return
    connection.send(("ready", os.getpid()))
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = execute(store, job)
        except QueryError as error:
            connection.send(("error", error))
            continue
        except Exception as error:  # noqa: BLE001 - any failure becomes an answer, the worker stays up
            connection.send(("error", QueryFailed(f"The query failed: {type(error).__name__}: {error}")))
            continue
        connection.send(("ok", outcome.format_name, outcome.rows))
        connection.send_bytes(outcome.body)


def main(argv: list[str]) -> None:
    _exit_when_orphaned(os.getppid())
    serve(Connection(int(argv[1])))


if __name__ == "__main__":
    main(sys.argv)
