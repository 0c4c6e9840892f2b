"""Server processes give back the memory a costly request or query took (graph_service.memory)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from multiprocessing.connection import Pipe
from types import SimpleNamespace

import pytest

from graph_service import memory
from graph_service.config import Settings
from graph_service.sparql.jobs import QueryJob
from graph_service.sparql.worker import serve_lane
from graph_service.web.server import gunicorn_options

# 200 MB freed in 1 KB blocks (each from malloc, not Python's small-object allocator) below one block still held:
# glibc keeps those pages; releasing them must give most of them back.
_FREED_BUT_KEPT = """
import sys
from graph_service.memory import release_free_memory

def anonymous_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024

blocks = [bytes(1024) + bytes([i % 256]) for i in range(200_000)]
held = bytes(4096) + b"x"
del blocks
before = anonymous_mb()
released = release_free_memory()
print(before, anonymous_mb(), released)
"""


def test_freed_memory_is_given_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", _FREED_BUT_KEPT], capture_output=True, text=True, check=True)
    before, after, released = out.stdout.split()
    assert released == "True"  # glibc here
    assert int(before) - int(after) >= 100, out.stdout


@pytest.fixture
def trims(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(memory, "_trim", lambda pad: calls.append(pad) or 1)
    return calls


def test_a_worker_releases_after_a_costly_request_only(trims):
    options = gunicorn_options(Settings.from_env(environ={}))
    cheap, costly = SimpleNamespace(), SimpleNamespace()
    options["pre_request"](None, cheap)
    options["post_request"](None, cheap, {}, None)
    assert trims == []
    options["pre_request"](None, costly)
    costly.aiwatch_started -= memory.SLOW_S
    options["post_request"](None, costly, {}, None)
    assert trims == [0]


def test_a_query_process_releases_after_a_costly_job(store, trims, monkeypatch):
    monkeypatch.setattr(memory, "SLOW_S", 0.0)  # every job counts as costly
    ours, theirs = Pipe()
    lane = threading.Thread(target=serve_lane, args=(store, theirs), daemon=True)
    lane.start()
    ours.send(QueryJob("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", None, None, None, "json", "ttl", 10))
    status, _, rows = ours.recv()
    assert status == "ok" and rows == 1 and b'"n"' in ours.recv_bytes()
    ours.send(QueryJob("SELECT * {", None, None, None, "json", "ttl", 10))
    assert ours.recv()[0] == "error"
    deadline = time.monotonic() + 10
    while len(trims) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert trims == [0, 0]  # after an answer and after a refusal alike
    ours.close()
    lane.join(10)
    assert not lane.is_alive()
