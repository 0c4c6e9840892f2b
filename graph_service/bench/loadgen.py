"""Load generation over HTTP on 127.0.0.1, bounded in time (and count): ``wrk`` when installed, else a small client.

``wrk`` (Debian package ``wrk``) is a C load generator: on a 2-core machine it leaves the cores to the server under
test, so the ratio to the "hello" ceiling measures the server and not the client. Each wrk thread walks the
request variants interleaved with the other threads (thread k asks variants k, k+T, k+2T...), so a "cold"
workload never repeats a variant until all were asked. The Python client (threads, one keep-alive connection each)
does the same and is used when wrk is missing, for slow targets (it stops after ``max_requests``), and by the tests.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .workloads import Variant

#: Longest a single request may take before it counts as an error.
REQUEST_TIMEOUT_S = 60.0


@dataclass
class Measurement:
    requests: int
    seconds: float
    p50_ms: float | None
    p95_ms: float | None
    errors: int
    client: str

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(base_url: str, variants: Sequence[Variant], *, connections: int, duration_s: float,
        max_requests: int | None = None, prefer_wrk: bool = True) -> Measurement:
    """Send the variants to ``base_url`` with ``connections`` concurrent connections for ``duration_s``."""
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the benchmark only sends load to this machine, not to {host}")
    if prefer_wrk and max_requests is None and wrk_available():
        return _run_wrk(base_url, variants, connections, duration_s)
    return _run_python(base_url, variants, connections, duration_s, max_requests)


# ---------------------------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------------------------

def _lua_string(text: str) -> str:
    level = "=" * 3
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def _wrk_script(variants: Sequence[Variant], threads: int) -> str:
    lines = ["local requests = {}"]
    for variant in variants:
        headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in variant.headers)
        lines.append(f'requests[#requests + 1] = wrk.format("GET", {_lua_string(variant.path)}, {{ {headers} }})')
    lines.append(f"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local i = nil
function request()
  if i == nil then i = id else i = i + {threads} end
  return requests[(i % #requests) + 1]
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), errors, summary.errors.status))
end
""")
    return "\n".join(lines)


def _run_wrk(base_url: str, variants: Sequence[Variant], connections: int, duration_s: float) -> Measurement:
    threads = max(1, min(2, connections))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(variants, threads))
    try:
        completed = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{max(1, round(duration_s))}s",
             "--timeout", f"{int(REQUEST_TIMEOUT_S)}s", "-s", script.name, base_url],
            capture_output=True, text=True, timeout=duration_s + REQUEST_TIMEOUT_S + 30,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRK-RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {completed.stdout[-500:]} {completed.stderr[-500:]}")
    count, micros, p50, p95, errors, status_errors = (int(x) for x in line.split()[1:])
    return Measurement(count, micros / 1e6, p50 / 1000 if count else None, p95 / 1000 if count else None,
                       errors + status_errors, "wrk")


# ---------------------------------------------------------------------------------------------------------------
# The Python client
# ---------------------------------------------------------------------------------------------------------------

def _run_python(base_url: str, variants: Sequence[Variant], connections: int, duration_s: float,
                max_requests: int | None) -> Measurement:
    parts = urlsplit(base_url)
    prefix = parts.path.rstrip("/")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    issued = [0]
    started = time.perf_counter()
    deadline = started + duration_s

    def take() -> int | None:
        with lock:
            if time.perf_counter() >= deadline or (max_requests is not None and issued[0] >= max_requests):
                return None
            issued[0] += 1
            return issued[0] - 1

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
        try:
            while (index := take()) is not None:
                variant = variants[index % len(variants)]
                sent = time.perf_counter()
                try:
                    connection.request("GET", prefix + variant.path, headers=dict(variant.headers))
                    response = connection.getresponse()
                    response.read()
                    ok = response.status < 400
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
                    ok = False
                elapsed = time.perf_counter() - sent
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, connections))]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return summarise(latencies, time.perf_counter() - started, errors[0], "python")


def summarise(latencies: list[float], seconds: float, errors: int, client: str) -> Measurement:
    """A measurement from the latencies (seconds) of the answered requests."""
    return Measurement(len(latencies), seconds, _percentile(latencies, 50), _percentile(latencies, 95), errors, client)


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000
