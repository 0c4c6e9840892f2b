"""One benchmark run: for each size, build the store, start the servers, run the mix, compare, report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph

from ..config import PROJECT_ROOT, Settings
from ..store import GraphStore, OxigraphStore
from . import loadgen, targets
from .build import BuildResult, ValidationResult
from .generate import plan, read_templates
from .loadgen import Measurement
from .workloads import LONG_QUERY, Workload, cheap_query, portal_mix

Progress = Callable[[str], None]

OURS, HELLO, RDFLIB, VIRTUOSO, OURS_VIRTUOSO = "ours", "hello", "rdflib-endpoint", "virtuoso", "ours-virtuoso"
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def parse_size(text: str) -> int:
    """``100k``, ``1M``, ``2.5M`` or a plain number of triples."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 100k, 1M, 10M)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


def size_label(triples: int) -> str:
    if triples >= 1_000_000 and triples % 1_000_000 == 0:
        return f"{triples // 1_000_000}M"
    if triples >= 1_000 and triples % 1_000 == 0:
        return f"{triples // 1_000}k"
    return str(triples)


@dataclass
class BenchConfig:
    sizes: list[int]
    seed: int = 42
    connections: int = 8
    duration_s: float = 5.0
    warmup_s: float = 2.0
    workers: int = 0  # 0: what serve picks for this machine
    threads: int = 4
    workdir: Path = PROJECT_ROOT / "var" / "bench"
    reuse_stores: bool = False
    rdflib: str = "auto"  # auto: when installed | off
    virtuoso: str = "auto"
    #: rdflib holds the data in Python objects: beyond this it needs more memory than the machine has.
    rdflib_max_triples: int = 2_000_000
    #: rdflib-endpoint answers one query at a time in seconds: a few requests per workload, bounded in time.
    rdflib_requests: int = 3
    rdflib_max_s: float = 45.0
    #: SHACL validation is measured on sizes up to this one (pyshacl is in memory and slow).
    validate_max_triples: int = 100_000
    prefer_wrk: bool = True
    isolation: bool = True
    #: Requests of the remote-overhead measurement in each mode (None: 200 per second of ``duration_s``).
    overhead_requests: int | None = None


@dataclass
class SizeResult:
    size: int
    build: BuildResult
    cases: int
    validation: ValidationResult | None = None
    startup_s: float | None = None
    memory_mb: tuple[float, float] | None = None  # PSS, RSS of ours after the portal workloads
    #: PSS, RSS of ours after the phase where 2 clients keep a query sorting every triple running (their working set)
    memory_with_long_queries_mb: tuple[float, float] | None = None
    workers: int = 0
    threads: int = 0
    measurements: dict[str, dict[str, Measurement]] = field(default_factory=dict)  # workload -> target -> m
    workloads: list[Workload] = field(default_factory=list)
    isolation: dict[str, Measurement] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    virtuoso_load_s: float | None = None
    first_catalogue_s: float | None = None
    rdflib_load_s: float | None = None
    rdflib_memory_mb: float | None = None
    virtuoso_memory_mb: float | None = None
    ours_virtuoso_first_catalogue_s: float | None = None
    #: The cheap query of the remote-overhead measurement, and its measurements: mode -> target -> measurement.
    cheap: Workload | None = None
    remote_overhead: dict[str, dict[str, Measurement]] = field(default_factory=dict)

    def get(self, workload: str, target: str) -> Measurement | None:
        return self.measurements.get(workload, {}).get(target)


@dataclass
class BenchResult:
    config: BenchConfig
    sizes: list[SizeResult]
    client: str
    machine: str
    total_s: float = 0.0


def _machine() -> str:
    import os
    import platform

    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}"


def _build(config: BenchConfig, size: int, store_path: Path, progress: Progress) -> BuildResult:
    command = [sys.executable, "-m", "graph_service.bench.build", "--store", str(store_path), "--triples",
               str(size), "--seed", str(config.seed)] + (["--reuse"] if config.reuse_stores else [])
    completed = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"building the {size_label(size)} store failed: {completed.stderr[-2000:]}")
    return BuildResult(**json.loads(completed.stdout.strip().splitlines()[-1]))


def _validate(config: BenchConfig, size: int) -> ValidationResult:
    completed = subprocess.run([sys.executable, "-m", "graph_service.bench.build", "--store", "-", "--triples",
                                str(size), "--seed", str(config.seed), "--validate"],
                               capture_output=True, text=True, cwd=PROJECT_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"validating the {size_label(size)} data failed: {completed.stderr[-2000:]}")
    return ValidationResult(**json.loads(completed.stdout.strip().splitlines()[-1]))


#: Fewer completed requests than this in the timed run: the workload is slow, measured again by count instead.
_ENOUGH_REQUESTS = 5
#: Bounds of that second measurement.
_SLOW_REQUESTS_PER_CONNECTION = 2
_SLOW_MAX_S = 120.0


class _Measurer:
    def __init__(self, config: BenchConfig, progress: Progress) -> None:
        self.config = config
        self.progress = progress

    def measure(self, url: str, workload: Workload, variants, *, warm: bool = True,
                max_requests: int | None = None, duration_s: float | None = None,
                connections: int | None = None, server_pid: int | None = None) -> Measurement:
        """Warm up (unless cold), measure for the configured time; a workload too slow to complete a few requests
        in that time is measured by count (each connection sends a few, within a bound of two minutes). With
        ``server_pid``, waits before and after until the server is idle: a load generator stops at its deadline,
        the queries it sent do not."""
        config = self.config
        connections = connections or config.connections
        if server_pid:
            targets.wait_until_idle(server_pid)
        if warm and not workload.cold and config.warmup_s > 0:
            loadgen.run(url, variants, connections=connections, duration_s=config.warmup_s,
                        max_requests=max_requests, prefer_wrk=config.prefer_wrk)
            if server_pid:
                targets.wait_until_idle(server_pid)
        measurement = loadgen.run(url, variants, connections=connections,
                                  duration_s=duration_s or config.duration_s, max_requests=max_requests,
                                  prefer_wrk=config.prefer_wrk)
        if measurement.requests < _ENOUGH_REQUESTS and max_requests is None:
            if server_pid:
                targets.wait_until_idle(server_pid)
            measurement = loadgen.run(url, variants, connections=connections, duration_s=_SLOW_MAX_S,
                                      max_requests=connections * _SLOW_REQUESTS_PER_CONNECTION, prefer_wrk=False)
        return measurement


def _sparql_variants(workload: Workload, sparql_path: str = "/sparql", params: dict[str, str] | None = None):
    return workload.variants(sparql_path, params)


def _long_queries(url: str, stop: threading.Event, connections: int) -> list[threading.Thread]:
    """Clients that keep a long query running on the server until ``stop`` (each bounded by its time limit)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = "/sparql?" + urlencode({"query": LONG_QUERY}, quote_via=quote)

    def client() -> None:
        while not stop.is_set():
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            try:
                connection.request("GET", path, headers={"Cache-Control": "no-cache", "Accept": "text/csv"})
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
            finally:
                connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    return threads


def run_size(config: BenchConfig, size: int, progress: Progress) -> SizeResult:
    label = size_label(size)
    workdir = config.workdir / label
    workdir.mkdir(parents=True, exist_ok=True)
    store_path = config.workdir / f"store-{label}"
    progress(f"[{label}] generating and publishing ~{size:,} triples into {store_path}")
    build = _build(config, size, store_path, progress)
    progress(f"[{label}] {build.triples:,} triples ({build.cases:,} cases) in {build.seconds:.1f} s = "
             f"{build.triples_per_s:,.0f} triples/s, peak RSS {build.peak_rss_mb:,.0f} MB"
             + (" (reused)" if build.reused else ""))
    settings = Settings.from_env()
    templates = read_templates(settings)
    the_plan = plan(templates, size, config.seed)
    workloads = portal_mix(settings.base_iri, the_plan.case_keys, templates.member_states, templates.title_words,
                           config.seed)
    result = SizeResult(size, build, the_plan.cases, workloads=workloads,
                        cheap=cheap_query(settings.base_iri, templates.member_states[0].rsplit("/", 1)[1]))
    from ..web.server import default_workers

    result.workers = config.workers or default_workers()
    result.threads = config.threads
    if size <= config.validate_max_triples:
        progress(f"[{label}] SHACL validation of the same data (pyshacl, as the loader does)")
        result.validation = _validate(config, size)
    measurer = _Measurer(config, progress)

    hello = targets.start_hello(workdir, workers=result.workers, threads=config.threads)
    try:
        progress(f"[{label}] hello ceiling")
        hello_workload = Workload("hello", "bare Flask", paths=("/hello",), accept="text/plain", cached=True,
                                  scope="service")
        result.measurements.setdefault("hello", {})[HELLO] = measurer.measure(
            hello.url, hello_workload, hello_workload.variants("/sparql"), server_pid=hello.process.pid)
    finally:
        hello.stop()

    ours = targets.start_ours(store_path, workdir, workers=result.workers, threads=config.threads)
    result.startup_s = ours.startup_s
    progress(f"[{label}] ours started in {ours.startup_s:.2f} s")
    try:
        result.first_catalogue_s = _first_catalogue(ours.url)
        progress(f"[{label}] first /catalog after the publish (generates the downloads): "
                 f"{result.first_catalogue_s:,.1f} s")
        for workload in workloads:
            measurement = measurer.measure(ours.url, workload, workload.variants("/sparql"),
                                           server_pid=ours.process.pid)
            result.measurements.setdefault(workload.name, {})[OURS] = measurement
            progress(f"[{label}] ours {workload.name}: {_short(measurement)}")
        result.memory_mb = ours.memory()
        if config.isolation:
            _isolation(config, result, ours.url, workloads, measurer, progress)
            result.memory_with_long_queries_mb = ours.memory()
    finally:
        ours.stop()

    for compare, peer in ((_compare_rdflib, RDFLIB), (_compare_virtuoso, VIRTUOSO)):
        try:
            compare(config, result, store_path, workdir, measurer, progress)
        except Exception as error:  # noqa: BLE001 - a peer that fails is reported, the rest of the run stands
            result.notes.append(f"the {peer} comparison failed: {type(error).__name__}: {error}")
            progress(f"[{label}] {peer} comparison failed: {error}")
    return result


def _first_catalogue(url: str) -> float:
    """The first catalogue of a data version at an origin needs every download (dumps, CSVs) written, to state
    their sizes and checksums: timed once, apart from the workload (which measures the complete pages after it).
    ``/catalog`` may answer before the files are written (it then writes them in the background);
    ``/catalog/quality`` waits for all of them."""
    started = time.perf_counter()
    for path in ("/catalog", "/catalog/quality"):
        status = targets.get_status(f"{url}{path}", timeout=3600)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return time.perf_counter() - started


def _short(m: Measurement) -> str:
    p50 = f"{m.p50_ms:.1f}" if m.p50_ms is not None else "-"
    return f"{m.throughput:,.1f} req/s, p50 {p50} ms, {m.requests} requests, {m.errors} errors"


def _isolation(config: BenchConfig, result: SizeResult, url: str, workloads: list[Workload], measurer: _Measurer,
               progress: Progress) -> None:
    """Cheap requests while long queries run: do they keep their latency (threads, query processes)?"""
    cheap = {w.name: w for w in workloads}
    stop = threading.Event()
    clients = _long_queries(url, stop, connections=2)
    try:
        time.sleep(0.5)
        for name in ("deref-ttl", "dashboard-refresh"):
            workload = cheap[name]
            measurement = measurer.measure(url, workload, workload.variants("/sparql"), warm=False)
            result.isolation[name] = measurement
            progress(f"[{size_label(result.size)}] {name} while 2 long queries run: {_short(measurement)}")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=config.duration_s + 130)


def _compare_rdflib(config: BenchConfig, result: SizeResult, store_path: Path, workdir: Path,
                    measurer: _Measurer, progress: Progress) -> None:
    label = size_label(result.size)
    if config.rdflib == "off":
        return
    python = targets.rdflib_endpoint_python()
    if python is None:
        result.notes.append("rdflib-endpoint is not installed (`make bench-deps` installs it in .venv-bench): "
                            "not compared.")
        return
    if result.build.triples > config.rdflib_max_triples:
        result.notes.append(f"rdflib-endpoint not run at {label}: rdflib keeps every triple as Python objects "
                            f"(~1.5 GB per million), more than this machine's memory allows beyond "
                            f"{config.rdflib_max_triples:,} triples.")
        return
    data_file = workdir / "data.nq"
    store = OxigraphStore(store_path)
    pyoxigraph.serialize(store.quads(), str(data_file), format=pyoxigraph.RdfFormat.N_QUADS)
    store.close()
    progress(f"[{label}] rdflib-endpoint: loading {data_file}")
    server = targets.start_rdflib_endpoint(python, data_file, workdir)
    result.rdflib_load_s = server.startup_s
    try:
        for workload in result.workloads:
            if workload.scope != "sparql":
                continue
            measurement = measurer.measure(server.url, workload, _sparql_variants(workload), warm=False,
                                           max_requests=config.rdflib_requests, duration_s=config.rdflib_max_s,
                                           connections=min(2, config.connections))
            result.measurements[workload.name][RDFLIB] = measurement
            progress(f"[{label}] rdflib-endpoint {workload.name}: {_short(measurement)}")
        result.rdflib_memory_mb = server.memory()[1]
    finally:
        server.stop()
        data_file.unlink(missing_ok=True)


def _compare_virtuoso(config: BenchConfig, result: SizeResult, store_path: Path, workdir: Path,
                      measurer: _Measurer, progress: Progress) -> None:
    label = size_label(result.size)
    if config.virtuoso == "off":
        return
    if not targets.virtuoso_available():
        result.notes.append("Virtuoso is not installed (`make bench-deps` runs scripts/virtuoso/install.sh): "
                            "not compared.")
        return
    try:
        from ..store.remote import RemoteStore
    except ImportError as error:
        result.notes.append(f"the remote backend is not available ({error}): Virtuoso not compared.")
        return
    # A database of its own per size: publishing 10M triples over the 1M ones would be a republish replacing nearly
    # all of them, one transaction past Virtuoso's size limit; into an empty dataset it is a first publish. Stopped
    # after its size: left idle it would hold its memory (1.7 GB at 1M) away from the next size's page cache.
    directory = config.workdir / f"virtuoso-{label}"
    progress(f"starting Virtuoso in {directory} (scripts/virtuoso/start.sh)")
    virtuoso = targets.start_virtuoso(directory)
    try:
        env = virtuoso.env
        remote = RemoteStore(env["AIWATCH_REMOTE_QUERY_URL"], env["AIWATCH_REMOTE_UPDATE_URL"],
                             graph_store_url=env.get("AIWATCH_REMOTE_GRAPH_STORE_URL", ""),
                             user=env.get("AIWATCH_REMOTE_USER", ""), password=env.get("AIWATCH_REMOTE_PASSWORD", ""),
                             bulk_dir=env.get("AIWATCH_REMOTE_BULK_DIR", ""), timeout_s=600)
        _measure_virtuoso(config, result, store_path, workdir, measurer, progress, virtuoso, remote)
    finally:
        virtuoso.stop()


def _measure_virtuoso(config: BenchConfig, result: SizeResult, store_path: Path, workdir: Path,
                      measurer: _Measurer, progress: Progress, virtuoso: targets.Virtuoso,
                      remote: GraphStore) -> None:
    """Virtuoso, then our service over it (``AIWATCH_BACKEND=remote``): the same data and workloads."""
    label = size_label(result.size)
    env = virtuoso.env
    store = OxigraphStore(store_path)
    progress(f"[{label}] Virtuoso: publishing the same data through the remote backend (bulk loader)")
    started = time.perf_counter()
    remote.publish(store.quads(), result.build.digest)
    result.virtuoso_load_s = time.perf_counter() - started
    store.close()
    progress(f"[{label}] Virtuoso loaded in {result.virtuoso_load_s:.1f} s")
    union = {"default-graph-uri": f"urn:x-graph-service:{remote.dataset}/union"}
    virtuoso_url = env["AIWATCH_REMOTE_QUERY_URL"].rsplit("/sparql", 1)[0]
    for workload in result.workloads:
        if workload.scope != "sparql":
            continue
        measurement = measurer.measure(virtuoso_url, workload, _sparql_variants(workload, "/sparql", union),
                                       server_pid=virtuoso.pid())
        result.measurements[workload.name][VIRTUOSO] = measurement
        progress(f"[{label}] Virtuoso {workload.name}: {_short(measurement)}")
    pid = virtuoso.pid()
    if pid:
        result.virtuoso_memory_mb = targets.process_tree_memory(pid)[1]
    server = targets.start_ours(store_path, workdir, workers=result.workers, threads=config.threads,
                                env={**env, "AIWATCH_BACKEND": "remote"}, name="ours-virtuoso")
    try:
        try:
            result.ours_virtuoso_first_catalogue_s = _first_catalogue(server.url)
            progress(f"[{label}] ours over Virtuoso: first /catalog {result.ours_virtuoso_first_catalogue_s:,.1f} s")
        except RuntimeError as error:
            result.notes.append(f"our service over Virtuoso: the first /catalog failed ({error}; see "
                                f"{server.log}): its catalogue page is measured as errors.")
        _remote_overhead(config, result, virtuoso_url, union, server, virtuoso.pid(), progress)
        _backend_overhead(config, result, remote, env["AIWATCH_REMOTE_QUERY_URL"], union, progress)
        for workload in result.workloads:
            measurement = measurer.measure(server.url, workload, workload.variants("/sparql"),
                                           server_pid=server.process.pid)
            result.measurements[workload.name][OURS_VIRTUOSO] = measurement
            progress(f"[{label}] ours over Virtuoso {workload.name}: {_short(measurement)}")
    finally:
        server.stop()


#: Bound of each remote-overhead measurement (it normally ends after its number of requests, in seconds).
_OVERHEAD_MAX_S = 120.0
#: Connections of the remote-overhead modes (None: the run's connections).
OVERHEAD_MODES: dict[str, int | None] = {"sequential": 1, "concurrent": None}
#: The in-process measurement of the backend alone (no HTTP face).
BACKEND_ALONE = "backend alone"


def _remote_overhead(config: BenchConfig, result: SizeResult, virtuoso_url: str, union: dict[str, str],
                     server: targets.Server, virtuoso_pid: int | None, progress: Progress) -> None:
    """The same cheap SELECT sent N times to Virtuoso's /sparql directly and to our /sparql over the remote backend
    (no answer cache), one connection at a time and then concurrently: what the remote backend adds.

    Both go through the same client (Python, keep-alive connections, exactly N requests), so its own cost is in
    both; each target gets a warm-up of N/10 requests first."""
    workload = result.cheap
    if workload is None:
        return
    requests = config.overhead_requests or max(50, round(200 * config.duration_s))
    sides = ((VIRTUOSO, virtuoso_url, _sparql_variants(workload, "/sparql", union)),
             (OURS_VIRTUOSO, server.url, workload.variants("/sparql")))
    for mode, connections in OVERHEAD_MODES.items():
        connections = connections or config.connections
        measured = result.remote_overhead.setdefault(mode, {})
        for target, url, variants in sides:
            for process in (virtuoso_pid, server.process.pid):
                if process:
                    targets.wait_until_idle(process)
            loadgen.run(url, variants, connections=connections, duration_s=_OVERHEAD_MAX_S,
                        max_requests=max(10, requests // 10), prefer_wrk=False)
            measured[target] = loadgen.run(url, variants, connections=connections, duration_s=_OVERHEAD_MAX_S,
                                           max_requests=requests, prefer_wrk=False)
        direct, ours = measured[VIRTUOSO], measured[OURS_VIRTUOSO]
        progress(f"[{size_label(result.size)}] remote overhead, {mode} ({connections} connection"
                 f"{'s' if connections > 1 else ''}, {requests} requests): Virtuoso p50/p95 "
                 f"{_ms(direct.p50_ms)}/{_ms(direct.p95_ms)} ms, ours over Virtuoso {_ms(ours.p50_ms)}/"
                 f"{_ms(ours.p95_ms)} ms: {_plus(_added(ours.p50_ms, direct.p50_ms))}/"
                 f"{_plus(_added(ours.p95_ms, direct.p95_ms))} ms")


def _backend_overhead(config: BenchConfig, result: SizeResult, remote: GraphStore, query_url: str,
                      union: dict[str, str], progress: Progress) -> None:
    """The backend alone, in this process: ``RemoteStore.select`` of the cheap query against the same GET sent with
    ``http.client`` over one kept-alive connection, alternately (both see the same moments of machine load)."""
    import http.client
    from urllib.parse import urlsplit

    workload = result.cheap
    if workload is None:
        return
    requests = config.overhead_requests or max(50, round(200 * config.duration_s))
    query = workload.queries[0]
    parts = urlsplit(query_url)
    path = f"{parts.path}?{urlencode({'query': query, **union}, quote_via=quote)}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def direct() -> None:
        connection.request("GET", path, headers={"Accept": workload.accept})
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"Virtuoso answered {answer.status}")

    def backend() -> None:
        remote.select(query)

    latencies: dict[str, list[float]] = {VIRTUOSO: [], OURS_VIRTUOSO: []}
    try:
        for index in range(requests + requests // 10):
            for target, call in ((VIRTUOSO, direct), (OURS_VIRTUOSO, backend)):
                started = time.perf_counter()
                call()
                if index >= requests // 10:  # the first tenth warms up
                    latencies[target].append(time.perf_counter() - started)
    finally:
        connection.close()
    measured = result.remote_overhead.setdefault(BACKEND_ALONE, {})
    for target, values in latencies.items():
        measured[target] = loadgen.summarise(values, sum(values), 0, "in-process")
    direct_m, ours_m = measured[VIRTUOSO], measured[OURS_VIRTUOSO]
    progress(f"[{size_label(result.size)}] remote overhead, {BACKEND_ALONE}: http.client p50/p95 "
             f"{_ms(direct_m.p50_ms)}/{_ms(direct_m.p95_ms)} ms, RemoteStore.select {_ms(ours_m.p50_ms)}/"
             f"{_ms(ours_m.p95_ms)} ms: {_plus(_added(ours_m.p50_ms, direct_m.p50_ms))}/"
             f"{_plus(_added(ours_m.p95_ms, direct_m.p95_ms))} ms")


def _added(ours: float | None, direct: float | None) -> float | None:
    return None if ours is None or direct is None else ours - direct


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _plus(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def run_bench(config: BenchConfig, progress: Progress = print) -> BenchResult:
    started = time.perf_counter()
    config.workdir.mkdir(parents=True, exist_ok=True)
    client = "wrk" if config.prefer_wrk and loadgen.wrk_available() else "python"
    results = []
    for size in config.sizes:
        size_started = time.perf_counter()
        results.append(run_size(config, size, progress))
        results[-1].notes.append(f"this size took {time.perf_counter() - size_started:,.0f} s in all")
    bench = BenchResult(config, results, client, _machine(), time.perf_counter() - started)
    (config.workdir / "results.json").write_text(json.dumps(_jsonable(bench), indent=1, default=str))
    return bench


def _jsonable(bench: BenchResult) -> dict:
    sizes = []
    for size in bench.sizes:
        entry = asdict(size)
        entry.pop("workloads")
        entry.pop("cheap")
        entry["measurements"] = {w: {t: {**asdict(m), "throughput": m.throughput} for t, m in per.items()}
                                 for w, per in size.measurements.items()}
        entry["remote_overhead"] = {mode: {t: asdict(m) for t, m in per.items()}
                                    for mode, per in size.remote_overhead.items()}
        sizes.append(entry)
    return {"machine": bench.machine, "client": bench.client, "total_s": bench.total_s,
            "config": asdict(bench.config), "sizes": sizes}
