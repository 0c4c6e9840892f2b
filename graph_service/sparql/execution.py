"""The query time limit, enforced by running queries in worker processes that can be killed.

Why processes: pyoxigraph has no way to cancel a running query (no timeout option, no interrupt; the evaluation
runs in Rust outside the GIL), and a thread cannot be stopped from outside. Only the end of the process running
a query reliably stops its work, so embedded-store queries run in a small pool of long-lived worker processes
(:mod:`.worker`), each with the store open read-only (Oxigraph allows any number of read-only openings). When a
query passes ``Settings.query_timeout_s`` its process is killed (SIGKILL: it only ever reads) and replaced on the
next query; the client gets a 503 saying so.

Why a pool and not one process per query: starting a worker (interpreter + store opening) costs ~0.2 s, so
processes are kept and reused; a cheap query pays only the round trip of the job and its answer over a local
socket (measured on the project data, a 10-row SELECT: 0.27 ms through the pool against 0.10 ms in-process; for
large results the transfer is small next to evaluation and serialisation). Each web worker holds at most
``Settings.threads`` query processes, one per concurrent request thread, started on demand and kept while idle.

Other backends (a remote SPARQL engine) do their work elsewhere: they run in the request thread and rely on the
engine's own time limit (:class:`InProcessExecutor`).
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Protocol

from ..store.base import GraphStore
from .jobs import EndpointBusy, QueryFailed, QueryJob, QueryOutcome, QueryTimeout
from .serialization import execute

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 60.0


class QueryExecutor(Protocol):
    def run(self, job: QueryJob) -> QueryOutcome: ...

    def close(self) -> None: ...


class InProcessExecutor:
    """Runs queries in the calling thread: for backends whose engine enforces its own limits."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def run(self, job: QueryJob) -> QueryOutcome:
        return execute(self.store, job)

    def close(self) -> None:
        pass


class QueryProcess:
    """One worker process and the socket to it."""

    def __init__(self, open_store: Callable[[], GraphStore]) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "graph_service.sparql.worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            )
        self._connection = Connection(ours.detach())
        try:
            self._connection.send(open_store)
            if not self._connection.poll(_STARTUP_TIMEOUT_S):
                raise QueryFailed("The query worker did not start in time.")
            message = self._connection.recv()
        except (EOFError, OSError) as error:
            self.kill()
            raise QueryFailed(f"The query worker could not start: {error}") from None
        except QueryFailed:
            self.kill()
            raise
        if message[0] == "error":
            self.kill()
            raise message[1]
        self.pid: int = message[1]

    @property
    def alive(self) -> bool:
        return self._process.poll() is None and not self._connection.closed

    def run(self, job: QueryJob, timeout_s: float) -> QueryOutcome:
        try:
            self._connection.send(job)
            if not self._connection.poll(timeout_s):
                self.kill()
                log.warning("query cancelled after %s s (worker %s killed): %.200r", timeout_s, self.pid, job.sparql)
                raise QueryTimeout(timeout_s, self.pid)
            message = self._connection.recv()
            if message[0] == "error":
                raise message[1]
            body = self._connection.recv_bytes()
        except (EOFError, OSError) as error:
            self.kill()
            raise QueryFailed(f"The query worker stopped unexpectedly ({error}).") from None
        return QueryOutcome(message[1], body, message[2])

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._connection.close()


class ProcessExecutor:
    """A pool of :class:`QueryProcess` es: at most ``max_processes`` queries at once, each within ``timeout_s``."""

    def __init__(self, open_store: Callable[[], GraphStore], timeout_s: float, max_processes: int) -> None:
        self._open_store = open_store
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max(1, max_processes))
        self._idle: list[QueryProcess] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def run(self, job: QueryJob) -> QueryOutcome:
        # Under `serve` the pool has one process per request thread, so this never waits: requests beyond the
        # threads queue in gunicorn's accept queue, first come first served, and that wait does not count against
        # their time limit. Only a server with more threads than query processes (the --dev server) can find every
        # process busy for a whole time limit: a 503, the server's overload, not the client's fault (per-client
        # shedding, 429 + Retry-After, is graph_service.web.limits's).
        if not self._slots.acquire(timeout=self.timeout_s):
            raise EndpointBusy(self.timeout_s)
        try:
            process = self._take()
            try:
                return process.run(job, self.timeout_s)
            finally:
                self._give_back(process)
        finally:
            self._slots.release()

    def _take(self) -> QueryProcess:
        with self._lock:
            while self._idle:
                process = self._idle.pop()
                if process.alive:
                    return process
        return QueryProcess(self._open_store)

    def _give_back(self, process: QueryProcess) -> None:
        if process.alive:
            with self._lock:
                self._idle.append(process)

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for operators and tests)."""
        with self._lock:
            return [process.pid for process in self._idle if process.alive]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.kill()


def store_opener(store: GraphStore) -> Callable[[], GraphStore] | None:
    """How a worker process opens the same store, or ``None`` when the store cannot be shared across processes."""
    return store.worker_opener()


def executor_for(store: GraphStore, timeout_s: float, max_processes: int) -> QueryExecutor:
    opener = store_opener(store)
    if opener is None:
        return InProcessExecutor(store)
    return ProcessExecutor(opener, timeout_s, max_processes)


class ExecutorHolder:
    """One executor per (web) process: a forked copy of an app must not share the parent's worker sockets."""

    def __init__(self, factory: Callable[[], QueryExecutor]) -> None:
        self._factory = factory
        self._executor: QueryExecutor | None = None
        self._owner_pid = 0
        self._lock = threading.Lock()

    def get(self) -> QueryExecutor:
        if self._executor is None or self._owner_pid != os.getpid():
            with self._lock:
                if self._executor is None or self._owner_pid != os.getpid():
                    self._executor = self._factory()
                    self._owner_pid = os.getpid()
        return self._executor

    def close(self) -> None:
        """Stop this process's workers (the app is going away)."""
        with self._lock:
            if self._executor is not None and self._owner_pid == os.getpid():
                self._executor.close()
            self._executor = None
