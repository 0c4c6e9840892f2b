"""Load: 32 concurrent clients mixing cheap and expensive requests for 60 s against ``graph-service serve``.

Loopback only, bounded in time and count. The server runs with its default limits, behind a "proxy" it trusts
(127.0.0.1), each client naming itself in ``X-Forwarded-For`` (a documentation address, never contacted), so each
has its own budget. The mix: dereferences and small SELECTs (cheap), GROUP BY over the 1,718 cases and a regex scan
of their descriptions (expensive; a comment makes some of them unique, as real users' queries are, so the result
cache does not answer them all), and now and then a query that runs past the time limit (runaway).

Asserted: no 5xx but the 503 of a cancelled runaway or of a busy endpoint on an expensive query; every refusal
(429, 503) has a plain-text reason (and 429 a Retry-After, which the clients honour); the memory of the server
(master, workers and query processes) stays under 1.5 GB and does not grow over the run; after the run no query
process is left working. The distribution, latencies and memory are printed (``pytest -s``).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil
import pytest
import requests
from conftest import start_server
from test_hostile_input import busy_processes, stop_server_and_descendants

pytestmark = pytest.mark.slow

CLIENTS = 32
DURATION_S = 60.0
QUERY_TIMEOUT_S = 10
MEMORY_LIMIT_BYTES = 1_500_000_000

PREFIXES = """PREFIX aiw: <https://w3id.org/aiwatch/def/aiwatch#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
SMALL_SELECT = PREFIXES + """SELECT ?ms ?label WHERE { ?ms a aiw:MemberState ; skos:prefLabel ?label }
ORDER BY ?label LIMIT 10"""
GROUP_BY = PREFIXES + """SELECT ?country (COUNT(?case) AS ?cases) (COUNT(DISTINCT ?status) AS ?statuses)
WHERE { ?case a aiw:AIUseCase ; ?p ?country . OPTIONAL { ?case aiw:status ?status }
        FILTER(isIRI(?country) && STRSTARTS(STR(?country), "https://w3id.org/aiwatch/id/member-state/")) }
GROUP BY ?country ORDER BY DESC(?cases)"""
REGEX_SCAN = PREFIXES + """SELECT ?case ?title WHERE {
  ?case a aiw:AIUseCase ; dct:title ?title ; ?p ?text .
  FILTER(isLiteral(?text) && REGEX(STR(?text), "(data|learn|chat|vision).*(citizen|public|tax)", "i")) }
LIMIT 200"""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DOCUMENTS = ["/doc/report/jrc126501", "/doc/member-state/esp", "/doc/workshop/plw-3", "/id/report/jrc126501",
             "/doc/member-state/mlt.ttl", "/concept/status", "/id/member-state/fra", "/doc/strategy/bel-2019"]
ACCEPTS = ["text/turtle", "application/ld+json", "text/html", "application/n-triples"]


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample, problem: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if problem:
                self.problems.append(problem)


def one_request(session: requests.Session, url: str, rng: random.Random, client: int, n: int) -> tuple[str, dict]:
    """The kind of request and the arguments of ``session.request``."""
    roll = rng.random()
    if roll < 0.55:
        return "cheap", {"method": "GET", "url": url + rng.choice(DOCUMENTS),
                         "headers": {"Accept": rng.choice(ACCEPTS)}, "allow_redirects": False}
    if roll < 0.80:
        return "cheap", {"method": "GET", "url": url + "/sparql", "params": {"query": SMALL_SELECT},
                         "headers": {"Accept": "application/sparql-results+json"}}
    if roll < 0.995:
        query = rng.choice([GROUP_BY, REGEX_SCAN])
        if rng.random() < 0.5:
            query += f"\n# client {client} request {n}"  # a different text: not answered from the cache
        return "expensive", {"method": "POST", "url": url + "/sparql", "data": {"query": query},
                             "headers": {"Accept": "application/sparql-results+json"}}
    return "runaway", {"method": "POST", "url": url + "/sparql", "data": {"query": RUNAWAY}}


def run_client(url: str, client: int, deadline: float, results: Results) -> None:
    rng = random.Random(client)
    forwarded = {"X-Forwarded-For": f"198.51.100.{client + 1}"}
    with requests.Session() as session:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            kind, arguments = one_request(session, url, rng, client, n)
            arguments["headers"] = {**arguments.get("headers", {}), **forwarded}
            started = time.monotonic()
            try:
                response = session.request(timeout=QUERY_TIMEOUT_S * 6, **arguments)
            except requests.RequestException as error:
                results.add(Sample(kind, 0, time.monotonic() - started), f"{kind}: {error}")
                continue
            elapsed = time.monotonic() - started
            problem = judge(kind, response)
            results.add(Sample(kind, response.status_code, elapsed), problem)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))


def judge(kind: str, response: requests.Response) -> str | None:
    status = response.status_code
    if status >= 400 and not (response.headers.get("Content-Type", "").startswith("text/plain")
                              and response.text.strip()):
        return f"{kind}: {status} without a plain-text reason"
    if status == 429 and not response.headers.get("Retry-After", "").isdigit():
        return f"{kind}: 429 without Retry-After"
    if status == 503 and kind in ("expensive", "runaway"):
        return None  # cancelled by the time limit, or no query process free within it
    if status >= 500:
        return f"{kind}: {status} {response.text[:200]!r}"
    if status not in (200, 303, 429):
        return f"{kind}: unexpected {status} {response.text[:200]!r}"
    return None


def family_rss(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def test_32_clients_for_60_seconds_get_no_5xx_and_memory_stays_bounded(settings, store):
    server = start_server(settings, env={"AIWATCH_TRUSTED_PROXIES": "127.0.0.1",
                                         "AIWATCH_QUERY_TIMEOUT_S": str(QUERY_TIMEOUT_S)})
    try:
        master = psutil.Process(server.process.pid)
        results, memory = Results(), []
        deadline = time.monotonic() + DURATION_S
        clients = [threading.Thread(target=run_client, args=(server.url, n, deadline, results)) for n in range(CLIENTS)]
        started = time.monotonic()
        for thread in clients:
            thread.start()
        while any(thread.is_alive() for thread in clients):
            memory.append(family_rss(master))
            time.sleep(1.0)
        elapsed = time.monotonic() - started
        idle_after = busy_processes(master, seconds=QUERY_TIMEOUT_S / 2)
        still_serving = requests.get(f"{server.url}/ready", timeout=30).status_code
    finally:
        stop_server_and_descendants(server)

    report(results, memory, elapsed)
    assert results.problems == [], results.problems[:20]
    assert len(results.samples) > CLIENTS * 10, "the clients hardly got answers"
    assert max(memory) < MEMORY_LIMIT_BYTES
    third = max(1, len(memory) // 3)
    assert max(memory[-third:]) <= 1.2 * max(memory[:2 * third]) + 64_000_000, "memory grows over the run"
    assert idle_after == [], "query processes still working after the load ended"
    assert still_serving == 200


def report(results: Results, memory: list[int], elapsed: float) -> None:
    by_kind: dict[str, list[Sample]] = {}
    for sample in results.samples:
        by_kind.setdefault(sample.kind, []).append(sample)
    print(f"\n{len(results.samples)} requests in {elapsed:.1f} s from {CLIENTS} clients: "
          f"{len(results.samples) / elapsed:.0f} requests/s")
    for kind, samples in sorted(by_kind.items()):
        answered = [s.seconds * 1000 for s in samples if s.status in (200, 303)]
        statuses = Counter(s.status for s in samples)
        print(f"  {kind:9} {len(samples):6} requests, statuses {dict(sorted(statuses.items()))}; latency of answers "
              f"p50 {percentile(answered, 0.5):.0f} ms, p95 {percentile(answered, 0.95):.0f} ms, "
              f"p99 {percentile(answered, 0.99):.0f} ms, mean {statistics.fmean(answered) if answered else 0:.0f} ms")
    print(f"  memory (master + workers + query processes): start {memory[0] / 1e6:.0f} MB, "
          f"max {max(memory) / 1e6:.0f} MB, end {memory[-1] / 1e6:.0f} MB ({len(memory)} samples)")
