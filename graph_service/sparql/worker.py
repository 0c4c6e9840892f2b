"""A query worker process: opens the store read-only and answers :class:`~.jobs.QueryJob` s, one lane per thread.

Started by :mod:`.execution` as ``python -m graph_service.sparql.worker <control fd> <lane fd>``. The first lane's
first message is a zero-argument callable that opens the store; the worker answers ``("ready", pid)`` and then
serves jobs on that lane. Each further lane (a socket, one per concurrent request of the web process) arrives as a
file descriptor over the control socket and gets a thread of its own: the lanes share one opening of the store (its
caches, and the memory they take, are the process's), and queries run outside the GIL, in parallel. On a lane,
each answer is ``("ok", format name, rows)`` followed by the body bytes, or ``("error", QueryError)``. The process
ends when the web process closes the control socket, or dies (a watchdog thread notices the new parent).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection

from .. import memory
from ..store.base import GraphStore
from .jobs import QueryError, QueryFailed
from .serialization import execute

_WATCH_INTERVAL_S = 0.5


def _exit_when_orphaned(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_WATCH_INTERVAL_S)
        os._exit(0)  # the web process is gone: nobody will read the answer

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def open_store(lane: Connection) -> GraphStore | None:
    """Receive the opener on the first lane, open the store and say so (or why not)."""
    try:
        opener = lane.recv()
        store = opener()
    except EOFError:
        return None
    except Exception as error:  # noqa: BLE001 - reported to the web process, which decides
        lane.send(("error", QueryFailed(f"The query worker cannot open the store: {error}")))
        return None
    lane.send(("ready", os.getpid()))
    return store


def serve_lane(store: GraphStore, lane: Connection) -> None:
    """Answer the jobs of one lane, one at a time, until the web process closes it."""
    with lane:
        while True:
            try:
                job = lane.recv()
            except (EOFError, OSError):
                return
            started = time.monotonic()
            try:
                outcome = execute(store, job)
            except QueryError as error:
                lane.send(("error", error))
            except Exception as error:  # noqa: BLE001 - any failure becomes an answer, the worker stays up
                lane.send(("error", QueryFailed(f"The query failed: {type(error).__name__}: {error}")))
            else:
                lane.send(("ok", outcome.format_name, outcome.rows))
                lane.send_bytes(outcome.body)
                del outcome  # its bytes are freed before the pages are given back
            memory.after_work(time.monotonic() - started)


def _start_lane(store: GraphStore, lane: Connection) -> None:
    threading.Thread(target=serve_lane, args=(store, lane), name="query-lane", daemon=True).start()


def serve(control: socket.socket, first_lane: Connection) -> None:
    store = open_store(first_lane)
    if store is None:
        return
    _start_lane(store, first_lane)
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not fds:  # the web process closed the control socket: no more lanes, no more work
            return
        _start_lane(store, Connection(fds[0]))


def main(argv: list[str]) -> None:
    _exit_when_orphaned(os.getppid())
    serve(socket.socket(fileno=int(argv[1])), Connection(int(argv[2])))
    os._exit(0)  # without waiting for lanes still busy: their answers have no reader any more


if __name__ == "__main__":
    main(sys.argv)
