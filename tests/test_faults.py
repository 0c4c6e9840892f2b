"""Faults: ``kill -9`` in the middle of a load or a write, a full disk, a read-only store directory.

After each fault the store serves either the old or the new data, complete and consistent, never a mix, and a
failing publish says why and leaves the previous version served. Loopback only; every loop is bounded.

Versions are compared by fingerprint: per named graph, its number of triples and a digest of its triples (blank
nodes written as ``_:b``, since two loads of the same files label them differently; the load record's content is
left out, it holds the time of the load).

The full disk is a 5 MB-class tmpfs and the read-only directory a tmpfs remounted read-only (root and
``mount`` are needed: the CI container runs as root). Where mounting is impossible they are simulated, and the
test says so in its output: a file size limit (``RLIMIT_FSIZE``: writes fail with EFBIG instead of ENOSPC) for the
full disk, and a folder without write permission, written by an unprivileged user, for the read-only store.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pyoxigraph
import pytest
import requests
from conftest import LiveServer, start_server
from test_hostile_input import stop_server_and_descendants

from graph_service.config import PROJECT_ROOT, Settings
from graph_service.namespaces import load_record_graph
from graph_service.store import GraphStore, OxigraphStore

pytestmark = pytest.mark.slow

BASE = "https://w3id.org/aiwatch/"
KILLS = 10
TOKEN = "fault-test-token-0123456789abcdef"
Fingerprint = dict[str, tuple[int, str]]


# --- fingerprints -------------------------------------------------------------------------------------------------

def fingerprint(store: GraphStore) -> Fingerprint:
    lines: dict[str, list[bytes]] = {}
    for quad in store.quads():
        terms = [t if not isinstance(t, pyoxigraph.BlankNode) else None for t in (quad.subject, quad.object)]
        line = f"{terms[0] or '_:b'} {quad.predicate} {terms[1] or '_:b'}".encode()
        lines.setdefault(quad.graph_name.value, []).append(line)
    record = load_record_graph(BASE)
    return {graph: (len(found), "" if graph == record else hashlib.sha256(b"\n".join(sorted(found))).hexdigest())
            for graph, found in lines.items()}


def fingerprint_of_path(path: Path) -> Fingerprint:
    store = OxigraphStore(path)
    try:
        return fingerprint(store)
    finally:
        store.close()


def served_counts(server: LiveServer) -> dict[str, int]:
    answer = requests.post(f"{server.url}/sparql", data={
        "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json", "Cache-Control": "no-cache"}, timeout=60)
    assert answer.status_code == 200, answer.text
    public = server.url + "/"
    return {row["g"]["value"].replace(public, BASE, 1): int(row["n"]["value"])
            for row in answer.json()["results"]["bindings"]}


def kill_server(server: LiveServer) -> None:
    """kill -9 of the master, its workers and their query processes, all at once."""
    try:
        master = psutil.Process(server.process.pid)
        family = [master, *master.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    server.process.wait(30)
    psutil.wait_procs(family, timeout=30)


def copy_store(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("downloads", "write.lock"))
    return target


# --- two known versions: the project, and the project changed ----------------------------------------------------

def changed_project(root: Path) -> Path:
    for folder in ("ontology", "data", "shapes"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    strategies = root / "data" / "curated" / "strategies.ttl"
    text = strategies.read_text(encoding="utf-8")
    assert '"AI 4 Belgium"@en' in text
    strategies.write_text(text.replace('"AI 4 Belgium"@en', '"AI 4 Belgium (changed)"@en'), encoding="utf-8")
    (root / "data" / "fault-test.ttl").write_text(
        f"<{BASE}id/strategy/bel-2019> <http://www.w3.org/2000/01/rdf-schema#comment> \"added by the fault test\" .\n")
    return root


def run_load(store_path: Path, project: Path, *extra: str, preexec: Callable[[], None] | None = None,
             **options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "graph_service.cli", "--store", str(store_path), "load", *extra],
        env={**os.environ, "AIWATCH_PROJECT_ROOT": str(project)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=preexec, **options)


@pytest.fixture(scope="module")
def versions(settings: Settings, store: GraphStore, tmp_path_factory: pytest.TempPathFactory):
    """The old version (the session store), the new one (a changed project), and how long a full load takes."""
    if settings.backend != "oxigraph":
        pytest.skip("kill -9 and disk faults are about the embedded store's files")
    work = tmp_path_factory.mktemp("faults")
    new_project = changed_project(work / "new-project")
    started = time.monotonic()
    loading = run_load(work / "new-store", new_project)
    publishing_started = None
    for line in loading.stderr:
        if "publishing" in line:
            publishing_started = time.monotonic()
    assert loading.wait(600) == 0 and publishing_started is not None
    ended = time.monotonic()
    old, new = fingerprint(store), fingerprint_of_path(work / "new-store")
    assert old != new and set(new) - set(old) == {f"{BASE}graph/data/fault-test"}
    return {"old": old, "new": new, "new_project": new_project, "load_seconds": ended - started,
            "publish_seconds": ended - publishing_started, "work": work}


# --- kill -9 in the middle of a load ------------------------------------------------------------------------------

def kill_during(process: subprocess.Popen, delay: float, after_line: str | None) -> str:
    """SIGKILL ``process`` ``delay`` s after it starts (or after it prints ``after_line``); what was interrupted."""
    seen = threading.Event()
    output: list[str] = []

    def read() -> None:
        for line in process.stderr:
            output.append(line)
            if after_line and after_line in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if after_line:
        seen.wait(600)
    time.sleep(delay)
    phase = output[-1].strip()[:60] if output else "(starting)"
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        phase = f"killed during: {phase}"
    else:
        phase = f"finished first (exit {process.returncode})"
    process.wait(60)
    reader.join(10)
    return phase


def test_kill_9_in_the_middle_of_loads_leaves_the_old_or_the_new_data(settings, store, versions, tmp_path):
    store_path = copy_store(settings.store_path, tmp_path / "store")
    server = start_server(settings.replace(store_path=store_path))
    rng = random.Random(7)
    projects = {"new": versions["new_project"], "old": PROJECT_ROOT}
    current, outcomes = "old", []
    try:
        for attempt in range(KILLS):
            target = "new" if current == "old" else "old"
            loading = run_load(store_path, projects[target], "--force")
            if attempt % 3:  # within the publishing step, where the files change (sometimes just after it)
                phase = kill_during(loading, rng.uniform(0.0, 1.3 * versions["publish_seconds"]),
                                    after_line="publishing")
            else:  # anywhere in the run
                phase = kill_during(loading, rng.uniform(0.0, versions["load_seconds"]), after_line=None)
            kill_server(server)

            state = fingerprint_of_path(store_path)
            found = next((name for name in ("old", "new") if state == versions[name]), None)
            assert found is not None, f"attempt {attempt} ({phase}): the store holds neither version"
            server = start_server(settings.replace(store_path=store_path))
            assert served_counts(server) == {graph: count for graph, (count, _) in state.items()}
            ready = requests.get(f"{server.url}/ready", timeout=30).json()
            assert ready["status"] == "ready"
            outcomes.append(f"{phase} -> {found}")
            current = found
        # And a load that is left alone completes, cleaning what the killed ones left behind.
        finishing = run_load(store_path, projects["new" if current == "old" else "old"], "--force")
        _, errors = finishing.communicate(timeout=600)
        assert finishing.returncode == 0, errors[-2000:]
    finally:
        stop_server_and_descendants(server)
    print("\n" + "\n".join(outcomes))
    assert not list((store_path / "versions").glob(".*.partial")), "leftovers of killed loads"
    assert len(list((store_path / "versions").iterdir())) <= settings.keep_versions + 1


# --- kill -9 in the middle of a write -----------------------------------------------------------------------------

WRITE_GRAPH = f"{BASE}graph/fault-writes"


def write_body(n: int) -> bytes:
    return f"<{BASE}id/strategy/bel-2019> <http://www.w3.org/2000/01/rdf-schema#comment> \"write {n}\" .\n".encode()


def written(server: LiveServer) -> tuple[set[str], set[str]]:
    """The comments in the write graph, and the checksums of the writes the write log records."""
    query = f"""PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?kind ?value WHERE {{
          {{ GRAPH <{WRITE_GRAPH}> {{ ?s <http://www.w3.org/2000/01/rdf-schema#comment> ?value }} BIND("data" AS ?kind) }}
          UNION
          {{ GRAPH <{BASE}graph/write-log> {{ ?activity ?p ?used . ?used spdx:checksum/spdx:checksumValue ?value }}
             BIND("log" AS ?kind) }} }}"""
    answer = requests.post(f"{server.url}/sparql", data={"query": query},
                           headers={"Accept": "application/sparql-results+json", "Cache-Control": "no-cache"},
                           timeout=60)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["results"]["bindings"]
    return ({r["value"]["value"] for r in rows if r["kind"]["value"] == "data"},
            {r["value"]["value"] for r in rows if r["kind"]["value"] == "log"})


def post_write(server: LiveServer, n: int) -> requests.Response:
    return requests.post(f"{server.url}/rdf-graph-store", params={"graph": WRITE_GRAPH}, data=write_body(n),
                         headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}, timeout=300)


def test_kill_9_in_the_middle_of_writes_leaves_each_write_whole_or_absent(settings, store, versions, tmp_path):
    store_path = copy_store(settings.store_path, tmp_path / "store")
    environment = {"AIWATCH_WRITE_TOKENS": f"tester:{TOKEN}"}
    server = start_server(settings.replace(store_path=store_path), env=environment)
    rng = random.Random(11)
    outcomes, kept = [], {"write 0"}
    try:
        started = time.monotonic()
        first = post_write(server, 0)
        write_seconds = time.monotonic() - started
        assert first.status_code in (200, 201), first.text
        for n in range(1, 7):
            writing = threading.Thread(target=_safely, args=(post_write, server, n))
            writing.start()
            time.sleep(rng.uniform(0.0, write_seconds * 1.2))
            kill_server(server)
            writing.join(60)
            server = start_server(settings.replace(store_path=store_path), env=environment)

            data, log = written(server)
            for m in range(n + 1):
                present = f"write {m}" in data
                recorded = hashlib.sha256(write_body(m)).hexdigest() in log
                assert present == recorded, f"write {m}: data {present}, record {recorded} (a mix)"
            assert kept <= data, "a write that was kept before is lost"
            kept = {f"write {m}" for m in range(n + 1)} & data
            outcomes.append(f"write {n}: {'kept' if f'write {n}' in data else 'absent'}")
            assert {graph for graph in fingerprint_of_path(store_path)} >= set(versions["old"])
    finally:
        stop_server_and_descendants(server)
    print("\n" + "\n".join(outcomes))


def _safely(call, *args):
    try:
        return call(*args)
    except requests.RequestException as error:
        return error


# --- a full disk and a read-only store ----------------------------------------------------------------------------

@pytest.fixture()
def small_version(tmp_path) -> Path:
    """A small valid project (the ontology and one data file): the version that must keep being served."""
    root = tmp_path / "small-project"
    for folder in ("ontology", "shapes"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    (root / "data").mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "curated" / "programmes.ttl", root / "data" / "programmes.ttl")
    return root


def mount_tmpfs(directory: Path, size_bytes: int) -> bool:
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(directory)],
                          capture_output=True)
    return done.returncode == 0


def unmount(directory: Path) -> None:
    subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture()
def disk(tmp_path) -> Iterator[dict]:
    state: dict = {"mounted": []}
    yield state
    for directory in state["mounted"]:
        unmount(directory)


def published_small_store(settings: Settings, small_project: Path, path: Path) -> str:
    loading = run_load(path, small_project)
    _, errors = loading.communicate(timeout=300)
    assert loading.returncode == 0, errors[-2000:]
    return OxigraphStore(path).version().digest


def test_a_full_disk_gives_a_clear_error_and_the_previous_version_keeps_serving(settings, small_version, disk,
                                                                                 tmp_path):
    # Size the disk from a trial: room for the small version and a third of the real one.
    trial = tmp_path / "trial"
    published_small_store(settings, small_version, trial)
    size = du(trial) + (5 << 20)
    mount_point = tmp_path / "disk"
    mounted = mount_tmpfs(mount_point, size)
    preexec = None
    if mounted:
        disk["mounted"].append(mount_point)
        how = f"a {size / 1e6:.1f} MB tmpfs"
    else:  # simulate: no file of the loader may grow beyond what the small version needed
        limit = max(p.stat().st_size for p in trial.rglob("*") if p.is_file()) * 2

        def preexec() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        how = f"RLIMIT_FSIZE of {limit} bytes (mounting a tmpfs is not possible here)"
    print(f"\nfull disk: {how}")
    store_path = mount_point / "store"
    before = published_small_store(settings, small_version, store_path)
    server = start_server(settings.replace(store_path=store_path))
    try:
        loading = run_load(store_path, PROJECT_ROOT, "--force", preexec=preexec)
        _, errors = loading.communicate(timeout=600)
        served = requests.get(f"{server.url}/ready", timeout=30).json()
        still_answers = requests.get(f"{server.url}/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    finally:
        stop_server_and_descendants(server)
    print(errors.strip().splitlines()[-1])
    assert loading.returncode == 1
    assert "Traceback" not in errors
    assert "previous data still served" in errors and ("No space left" in errors or "too large" in errors)
    assert served["data_version"] == before and still_answers.json()["boolean"] is True
    assert OxigraphStore(store_path).version().digest == before
    assert not list((store_path / "versions").glob(".*.partial")), "the failed version was not cleaned up"


def test_a_read_only_store_gives_a_clear_error_and_the_previous_version_keeps_serving(settings, small_version, disk,
                                                                                      tmp_path):
    mount_point = tmp_path / "ro"
    store_path = mount_point / "store"
    mounted = mount_tmpfs(mount_point, 64 << 20)
    as_user = None
    if mounted:
        disk["mounted"].append(mount_point)
    before = published_small_store(settings, small_version, store_path)
    if mounted:
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], capture_output=True)
        assert remounted.returncode == 0, remounted.stderr
        how = "a tmpfs remounted read-only"
    else:  # simulate: a folder without write permission, and a loader that is not root
        for path in [store_path, *store_path.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o555)
        if os.geteuid() == 0:
            def as_user() -> None:
                os.setgid(65534)
                os.setuid(65534)
        how = "a folder without write permission" + (", loaded as nobody" if as_user else "")
    print(f"\nread-only store: {how}")
    server = start_server(settings.replace(store_path=store_path))
    try:
        loading = run_load(store_path, PROJECT_ROOT, "--force", preexec=as_user)
        _, errors = loading.communicate(timeout=600)
        served = requests.get(f"{server.url}/ready", timeout=30).json()
    finally:
        stop_server_and_descendants(server)
    print(errors.strip().splitlines()[-1])
    assert loading.returncode == 1 and "Traceback" not in errors
    assert "Read-only file system" in errors or "Permission denied" in errors
    assert served["status"] == "ready" and served["data_version"] == before
