"""The query time limit, enforced by running queries in a worker process that can be killed.

Why a process: pyoxigraph has no way to cancel a running query (no timeout option, no interrupt; the evaluation
runs in Rust outside the GIL), and a thread cannot be stopped from outside. Only the end of the process running
a query reliably stops its work, so embedded-store queries run in a long-lived worker process (:mod:`.worker`) with
the store open read-only (Oxigraph allows any number of read-only openings). When a query passes
``Settings.query_timeout_s`` the process is killed (SIGKILL: it only ever reads) and a new one takes over; the
client gets a 503 saying so.

Why one process per web process, with one lane (socket and thread) per concurrent query, and not one process per
lane: an opening of a store at a million triples grows to ~100 MB (RocksDB's tables and caches) once queries have
touched it; lanes share one opening. Killing the process for one runaway query also ends the others it was running
at that moment: those are not the client's fault, so they are sent again, to the new process, within what is left
of their own time limit (:class:`ProcessExecutor`). A process can also end by itself: pyoxigraph aborts on an
engine panic (0.5.13 does on ``ORDER BY`` over numbers mixed with strings, e.g. every triple of the 1M benchmark
data by ``?o``); nobody can tell which of the queries it was running did it, so each is run again once in
a process of its own: the others get their answers, the culprit crashes only itself (or runs into its time limit)
and is refused, then refused unrun when asked again over the same data (docs/upstream-reports.md). A cheap query
pays only the round trip of the job and its answer over a local socket (a 10-row SELECT on the project data:
0.27 ms through a lane against 0.10 ms in-process); starting a process (interpreter + store opening, ~0.2 s)
happens once, and after a kill.

Other backends (a remote SPARQL engine) do their work elsewhere: they run in the request thread and rely on the
engine's own time limit (:class:`InProcessExecutor`).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Protocol

from ..store.base import GraphStore
from .cache import VersionedCache, version_key
from .jobs import EndpointBusy, QueryFailed, QueryJob, QueryOutcome, QueryTimeout
from .serialization import execute

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 60.0
#: Times a query ended by another query's cancellation is sent again before it fails (each within its own limit).
_RESENDS = 3
#: Queries that crashed the engine even alone, remembered per web process and data version, refused unrun.
_KNOWN_CRASHERS = 1024
_CRASHER = ("The query engine stopped while evaluating this query, twice, the second time running it alone: it "
            "cannot evaluate it (a defect of the engine, not of the query; one known cause is ORDER BY over values "
            "mixing numbers and strings). The other queries were answered; this query is refused without running "
            "until the data changes.")


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


class _Cancelled(Exception):
    """The process running the query was killed for another query that ran past its limit."""


class _Crashed(Exception):
    """The process running the query stopped by itself (an engine panic aborts it): this query or another one
    it was running did it, nobody can tell which."""


class QueryProcess:
    """One worker process, its control socket (new lanes go through it) and its idle lanes."""

    def __init__(self, open_store: Callable[[], GraphStore]) -> None:
        control, control_theirs = socket.socketpair()
        lane, lane_theirs = socket.socketpair()
        with control_theirs, lane_theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "graph_service.sparql.worker", str(control_theirs.fileno()),
                 str(lane_theirs.fileno())],
                pass_fds=[control_theirs.fileno(), lane_theirs.fileno()], stdin=subprocess.DEVNULL,
            )
        self._control = control
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        #: Set when this process was killed because a query passed its time limit (not for a fault of its own).
        self.cancelled = False
        self._ended = False  # set before the kill: a thread seeing its lane close then knows why
        first = Connection(lane.detach())
        try:
            first.send(open_store)
            if not first.poll(_STARTUP_TIMEOUT_S):
                raise QueryFailed("The query worker did not start in time.")
            message = first.recv()
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
        self._idle.append(first)

    @property
    def alive(self) -> bool:
        # (poll() answers None while another thread is reaping the process: the flag decides first)
        return not self._ended and self._process.poll() is None

    def _take_lane(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        ours, theirs = socket.socketpair()
        with theirs:
            socket.send_fds(self._control, [b"L"], [theirs.fileno()])
        return Connection(ours.detach())

    def run(self, job: QueryJob, timeout_s: float, limit_s: float) -> QueryOutcome:
        """Run ``job`` on a lane of its own within ``timeout_s`` (what is left of the time limit ``limit_s``);
        :class:`_Cancelled` if another query's cancellation ended it."""
        try:
            lane = self._take_lane()
            lane.send(job)
            if not lane.poll(timeout_s):
                self.kill(cancelled=True)
                log.warning("query cancelled after %s s (worker %s killed): %.200r", limit_s, self.pid, job.sparql)
                raise QueryTimeout(limit_s, self.pid)
            message = lane.recv()
            if message[0] == "error":
                self._give_back(lane)
                raise message[1]
            body = lane.recv_bytes()
        except (EOFError, OSError):
            if self.cancelled:
                raise _Cancelled from None
            self.kill()
            log.warning("query worker %s stopped unexpectedly while running: %.200r", self.pid, job.sparql)
            raise _Crashed from None
        self._give_back(lane)
        return QueryOutcome(message[1], body, message[2])

    def _give_back(self, lane: Connection) -> None:
        with self._lock:
            self._idle.append(lane)

    def kill(self, cancelled: bool = False) -> None:
        self.cancelled = self.cancelled or cancelled
        self._ended = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        with self._lock:
            lanes, self._idle = self._idle, []
        for lane in lanes:
            lane.close()
        self._control.close()


class ProcessExecutor:
    """Queries of this web process in one :class:`QueryProcess`: at most ``max_queries`` at once, each within
    ``timeout_s``; a new process replaces a killed one on the next query.

    A query found to crash the engine (:meth:`_run_alone`) is refused without running when asked again over the
    same data (``data_version``): each crash costs a process start for it and for every query running beside it,
    and a client retrying it would pay them again and again (a crash depends on the data: new data, new try)."""

    def __init__(self, open_store: Callable[[], GraphStore], timeout_s: float, max_queries: int,
                 data_version: Callable[[], str] = lambda: "") -> None:
        self._open_store = open_store
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max(1, max_queries))
        self._process: QueryProcess | None = None
        self._lock = threading.Lock()
        self._data_version = data_version
        #: Digests of the jobs that crashed the engine, of the current data version (a bound on their number).
        self._crashers: VersionedCache[bool] = VersionedCache(lambda _: 1, max_bytes=_KNOWN_CRASHERS)
        atexit.register(self.close)

    def run(self, job: QueryJob) -> QueryOutcome:
        # (the data version, a readlink, is read only once a crasher is known)
        if len(self._crashers) and self._crashers.get(self._data_version(), _digest(job)):
            raise QueryFailed(_CRASHER)
        # Under `serve` there are as many slots as request threads, so this never waits: requests beyond the
        # threads queue in gunicorn's accept queue, first come first served, and that wait does not count against
        # their time limit. Only a server with more threads than slots (the --dev server) can find every slot
        # busy for a whole time limit: a 503, the server's overload, not the client's fault (per-client
        # shedding, 429 + Retry-After, is graph_service.web.limits's).
        if not self._slots.acquire(timeout=self.timeout_s):
            raise EndpointBusy(self.timeout_s)
        try:
            deadline = time.monotonic() + self.timeout_s
            for _ in range(_RESENDS + 1):
                left = deadline - time.monotonic()
                if left <= 0:  # (never sent with no time left: its cancellation would end the others again)
                    raise QueryTimeout(self.timeout_s)
                try:
                    return self._current().run(job, left, self.timeout_s)
                except _Cancelled:
                    continue  # sent again, to the process that replaced the killed one, within its own limit
                except _Crashed:
                    return self._run_alone(job, deadline)
            raise QueryFailed("The query was stopped several times because other queries passed the time limit; "
                              "try again.")
        finally:
            self._slots.release()

    def _run_alone(self, job: QueryJob, deadline: float) -> QueryOutcome:
        """Run again, in a process of its own, a query that was running when its process crashed: nobody can tell
        which of the queries did it, and sent again together the culprit would end the others a second time. Alone,
        each of the others gets its answer and the culprit crashes only itself."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeout(self.timeout_s)
        process = QueryProcess(self._open_store)
        try:
            return process.run(job, left, self.timeout_s)
        except _Crashed:
            version, key = self._data_version(), _digest(job)
            if self._crashers.get(version, key) is None:  # (the lookup moves the memo to this data version)
                self._crashers.put(version, key, True)
            raise QueryFailed(_CRASHER) from None
        finally:
            process.kill()

    def _current(self) -> QueryProcess:
        with self._lock:  # one start at a time: threads arriving meanwhile wait for the same new process
            if self._process is None or not self._process.alive:
                self._process = QueryProcess(self._open_store)
            return self._process

    def pids(self) -> list[int]:
        """Process id of the query process, if one is running (for operators and tests)."""
        with self._lock:
            return [self._process.pid] if self._process is not None and self._process.alive else []

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.kill()


def store_opener(store: GraphStore) -> Callable[[], GraphStore] | None:
    """How a worker process opens the same store, or ``None`` when the store cannot be shared across processes."""
    return store.worker_opener()


def executor_for(store: GraphStore, timeout_s: float, max_queries: int) -> QueryExecutor:
    opener = store_opener(store)
    if opener is None:
        return InProcessExecutor(store)
    return ProcessExecutor(opener, timeout_s, max_queries, data_version=lambda: version_key(store))


def _digest(job: QueryJob) -> bytes:
    """Names a job in 32 bytes (its text may be a megabyte)."""
    return hashlib.sha256(repr(job).encode()).digest()


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
