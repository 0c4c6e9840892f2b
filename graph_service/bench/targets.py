"""The servers the benchmark measures, each started on 127.0.0.1 and stopped by the benchmark itself.

- ours: ``graph-service serve`` (gunicorn, the production settings) over a built store, or over Virtuoso;
- hello: a bare Flask app under the very same gunicorn settings (the ceiling);
- rdflib-endpoint: the PyPI package serving the same data from rdflib's in-memory store (uvicorn), run with the
  interpreter of a separate virtualenv (``.venv-bench``) when it is not importable here;
- Virtuoso: started and stopped with ``scripts/virtuoso/{start,stop}.sh``, loaded through our remote backend's
  publish (its bulk loader), queried over its own HTTP SPARQL endpoint with the same union default graph.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..config import PROJECT_ROOT, origin_url

_STARTUP_TIMEOUT_S = 120.0
#: The load generator is one client sending thousands of requests a second: the per-client rate and concurrency
#: limits (graph_service.web.limits) would answer most of them 429. Everything else stays as in production.
UNLIMITED_CLIENT = {"AIWATCH_CLIENT_RATE_PER_S": "0", "AIWATCH_CLIENT_MAX_CONCURRENT": "0"}
_LOOPBACK = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_status(url: str, timeout: float = 5.0) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never via a proxy
    try:
        with opener.open(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, urllib.error.URLError):
        return 0


@dataclass
class Server:
    """A server process this benchmark started (and only that one is ever stopped)."""

    name: str
    url: str
    process: subprocess.Popen
    startup_s: float = 0.0
    log: Path | None = None
    extra: dict = field(default_factory=dict)
    #: The store folder whose downloads this server writes for its origin (ours only).
    store_path: Path | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.store_path is not None:
            forget_downloads(self.store_path, self.url)

    def memory(self) -> tuple[float, float]:
        """(proportional set size, resident set size) in MB of the server and every process below it."""
        return process_tree_memory(self.process.pid)


def forget_downloads(store_path: Path, url: str) -> None:
    """Remove the downloads written for a server's origin: a port of one run, which no later run serves (each
    would otherwise leave its copy of the data under its own IRIs: ~0.5 GB at 1M triples, ~5 GB at 10M)."""
    from ..catalog.downloads import origin_directory_name

    for folder in (store_path / "downloads").glob(f"*/{origin_directory_name(origin_url(url))}"):
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(name: str, process: subprocess.Popen, url: str, log: Path | None,
                      timeout_s: float = _STARTUP_TIMEOUT_S) -> float:
    started = time.perf_counter()
    deadline = started + timeout_s
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{name} exited while starting: {tail}")
        if get_status(url, timeout=2) == 200:
            return time.perf_counter() - started
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"{name} did not answer {url} within {timeout_s:.0f} s")


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(command, env={**os.environ, **_LOOPBACK, **env}, stdout=subprocess.DEVNULL,
                                stderr=out, stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT)


def start_ours(store_path: Path, workdir: Path, *, workers: int, threads: int, env: dict[str, str] | None = None,
               name: str = "ours") -> Server:
    """``graph-service serve``; start-up time is measured to the first ``/ready`` 200 (store open, data there)."""
    port = free_port()
    log = workdir / f"{name}.log"
    started = time.perf_counter()
    url = f"http://127.0.0.1:{port}"
    # Its own origin among the prepared ones (as `make run` does): never refused downloads, however many runs before.
    process = _spawn([sys.executable, "-m", "graph_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                      "--workers", str(workers), "--threads", str(threads)],
                     {"AIWATCH_STORE_PATH": str(store_path), "AIWATCH_DOWNLOAD_ORIGINS": f"{url}/", **UNLIMITED_CLIENT,
                      **(env or {})}, log)
    _wait_until_ready(name, process, f"{url}/ready", log)
    return Server(name, url, process, time.perf_counter() - started, log, store_path=store_path)


def start_hello(workdir: Path, *, workers: int, threads: int) -> Server:
    port = free_port()
    log = workdir / "hello.log"
    started = time.perf_counter()
    process = _spawn([sys.executable, "-m", "graph_service.bench.hello", "--port", str(port), "--workers",
                      str(workers), "--threads", str(threads)], {}, log)
    url = f"http://127.0.0.1:{port}"
    _wait_until_ready("hello", process, f"{url}/hello", log)
    return Server("hello", url, process, time.perf_counter() - started, log)


# ---------------------------------------------------------------------------------------------------------------
# rdflib-endpoint
# ---------------------------------------------------------------------------------------------------------------

RDFLIB_SERVER = Path(__file__).with_name("rdflib_server.py")
BENCH_VENV_PYTHON = PROJECT_ROOT / ".venv-bench" / "bin" / "python"
#: rdflib parses about 10-20k triples/s: a million takes minutes.
_RDFLIB_LOAD_TIMEOUT_S = 1800.0


def rdflib_endpoint_python() -> str | None:
    """An interpreter that can import rdflib_endpoint and uvicorn: ours, else ``.venv-bench``'s; ``None``: absent."""
    for candidate in (sys.executable, str(BENCH_VENV_PYTHON)):
        if not Path(candidate).exists():
            continue
        probe = subprocess.run([candidate, "-c", "import rdflib_endpoint, uvicorn"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def start_rdflib_endpoint(python: str, data_file: Path, workdir: Path) -> Server:
    port = free_port()
    log = workdir / "rdflib-endpoint.log"
    started = time.perf_counter()
    process = _spawn([python, str(RDFLIB_SERVER), str(data_file), str(port)], {}, log)
    url = f"http://127.0.0.1:{port}"
    _wait_until_ready("rdflib-endpoint", process, f"{url}/ready", log, timeout_s=_RDFLIB_LOAD_TIMEOUT_S)
    return Server("rdflib-endpoint", url, process, time.perf_counter() - started, log)


# ---------------------------------------------------------------------------------------------------------------
# Virtuoso
# ---------------------------------------------------------------------------------------------------------------

VIRTUOSO_SCRIPTS = PROJECT_ROOT / "scripts" / "virtuoso"


def virtuoso_available() -> bool:
    return shutil.which("virtuoso-t") is not None and (VIRTUOSO_SCRIPTS / "start.sh").exists()


@dataclass
class Virtuoso:
    directory: Path
    env: dict[str, str]

    @property
    def query_url(self) -> str:
        return self.env["AIWATCH_REMOTE_QUERY_URL"]

    def stop(self) -> None:
        subprocess.run(["bash", str(VIRTUOSO_SCRIPTS / "stop.sh"), str(self.directory)], capture_output=True,
                       timeout=120)

    def pid(self) -> int | None:
        try:
            return int((self.directory / "pid").read_text().strip())
        except (OSError, ValueError):
            return None


def start_virtuoso(directory: Path) -> Virtuoso:
    directory.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(["bash", str(VIRTUOSO_SCRIPTS / "start.sh"), str(directory)], capture_output=True,
                               text=True, timeout=300, env={**os.environ, **_LOOPBACK})
    if completed.returncode != 0:
        raise RuntimeError(f"scripts/virtuoso/start.sh failed: {completed.stderr[-1500:]}")
    env = {}
    for line in completed.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export "):].partition("=")
            env[name.strip()] = value.strip().strip("'\"")
    return Virtuoso(directory, env)


# ---------------------------------------------------------------------------------------------------------------
# Memory of a process tree
# ---------------------------------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree_memory(pid: int) -> tuple[float, float]:
    """PSS and RSS (MB) summed over ``pid`` and its descendants (PSS shares shared pages out: it adds up)."""
    pss = rss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        pending += _children(current)
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


def _tree_cpu_seconds(pid: int) -> float:
    ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        pending += _children(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, timeout_s: float = 90.0, busy_share: float = 0.05) -> float:
    """Wait until the process tree of ``pid`` uses less than ``busy_share`` of a core (queries a finished load
    generator left running must not slow the next workload down); returns the seconds waited."""
    started = time.perf_counter()
    previous = _tree_cpu_seconds(pid)
    while time.perf_counter() - started < timeout_s:
        time.sleep(0.5)
        current = _tree_cpu_seconds(pid)
        if current - previous < busy_share * 0.5:
            break
        previous = current
    return time.perf_counter() - started
