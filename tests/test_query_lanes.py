"""Queries of one web process share one query process (one lane each); a runaway's cancellation does not fail them.

The store the query process opens here is the real on-disk store behind a wrapper whose ``query`` can be held:
a query carrying ``#hold-once <file>`` waits forever the first time (it creates ``<file>``) and runs at once when
sent again; ``#hold`` waits forever. So the test decides which queries are running when a runaway is cancelled.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path

import pytest

from graph_service.sparql.execution import ProcessExecutor
from graph_service.sparql.jobs import QueryFailed, QueryJob, QueryTimeout
from graph_service.store.oxigraph import OxigraphStore

pytestmark = pytest.mark.embedded_only  # query processes are the embedded store's

TESTS_DIR = Path(__file__).parent


class HeldStore(OxigraphStore):
    """The store, with queries that can be held (see the module docstring); opened in the query process."""

    def query(self, sparql: str, **options):
        if "#hold-once " in sparql:
            marker = Path(sparql.split("#hold-once ", 1)[1].split()[0])
            if not marker.exists():
                marker.touch()
                _forever()
        elif "#hold" in sparql:
            _forever()
        elif "#crash" in sparql:  # as an engine panic does (pyoxigraph aborts), after a while
            time.sleep(0.5)
            os.abort()
        if "#slow" in sparql:  # (sent again after a hold-once: runs longer than a crasher takes to crash)
            time.sleep(1.5)
        return super().query(sparql, **options)


def _forever() -> None:
    while True:
        time.sleep(60)


def job(sparql: str) -> QueryJob:
    return QueryJob(sparql, None, None, None, "json", "ttl", 1000)


@pytest.fixture
def data_version() -> list[str]:
    """The data version the executor sees (``[0]``), changed by a test as a publish would."""
    return ["first"]


@pytest.fixture
def executor(store, monkeypatch, data_version):
    if not isinstance(store, OxigraphStore):
        pytest.fail("the embedded store is needed")
    monkeypatch.setenv("PYTHONPATH", str(TESTS_DIR))  # the query process imports HeldStore from this module
    executor = ProcessExecutor(functools.partial(HeldStore, store.path), timeout_s=4.0, max_queries=4,
                               data_version=lambda: data_version[0])
    yield executor
    executor.close()


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def recorder(executor: ProcessExecutor, outcomes: dict[str, object]):
    """``run(name, sparql)``: run a query and keep its outcome (answer or exception) under ``name``."""
    def run(name: str, sparql: str) -> None:
        try:
            outcomes[name] = executor.run(job(sparql))
        except Exception as error:  # noqa: BLE001 - the outcome is asserted by the test
            outcomes[name] = error

    return run


def test_concurrent_queries_run_in_one_process(executor):
    answers: list[bytes] = []

    def ask() -> None:
        answers.append(executor.run(job("ASK { ?s ?p ?o }")).body)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and all(b"true" in answer for answer in answers)
    assert len(executor.pids()) == 1


def test_a_query_ended_by_a_runaways_cancellation_is_sent_again(executor, tmp_path):
    executor.run(job("ASK {}"))
    [first_process] = executor.pids()
    outcomes: dict[str, object] = {}
    run = recorder(executor, outcomes)

    runaway = threading.Thread(target=run, args=("runaway", "ASK { ?s ?p ?o } #hold"))
    runaway.start()
    time.sleep(1.0)  # the runaway holds its lane; its 4 s limit ends at ~4 s
    marker = tmp_path / "held"
    bystander = threading.Thread(target=run, args=("bystander", f"ASK {{ ?s ?p ?o }} #hold-once {marker}"))
    bystander.start()
    wait_for(marker.exists)  # the bystander is running in the same process when the runaway is cancelled
    runaway.join()
    bystander.join()

    assert isinstance(outcomes["runaway"], QueryTimeout) and "cancelled after 4 s" in str(outcomes["runaway"])
    assert b"true" in outcomes["bystander"].body  # sent again to the new process, answered within its own limit
    assert executor.pids() and executor.pids() != [first_process]


def test_a_query_sent_again_gets_what_is_left_of_its_own_limit(executor):
    first = threading.Thread(target=lambda: pytest.raises(QueryTimeout, executor.run, job("ASK {} #hold")))
    first.start()
    time.sleep(0.5)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="cancelled after 4 s"):
        executor.run(job("ASK { ?s ?p ?o } #hold"))  # ended with the first at ~3.5 s, sent again, held again
    first.join()
    # Cancelled at the end of its own 4 s, not after a new whole limit once sent again (that would be ~7.5 s).
    assert time.monotonic() - started < 6.0


def test_a_query_that_crashes_its_process_fails_and_the_others_it_was_running_are_answered(executor, tmp_path):
    executor.run(job("ASK {}"))
    [first_process] = executor.pids()
    outcomes: dict[str, object] = {}
    run = recorder(executor, outcomes)

    marker = tmp_path / "held"
    bystander = threading.Thread(target=run, args=("bystander", f"ASK {{ ?s ?p ?o }} #hold-once {marker} #slow"))
    bystander.start()
    wait_for(marker.exists)
    # Crashes the process; both are sent again, each alone: the crasher crashes its own process again, 1 s before
    # the bystander (sent again with it, and slower) has its answer.
    run("crasher", "ASK { ?s ?p ?o } #crash")
    bystander.join()

    assert isinstance(outcomes["crasher"], QueryFailed) and "cannot evaluate it" in str(outcomes["crasher"])
    assert b"true" in outcomes["bystander"].body
    assert b"true" in executor.run(job("ASK { ?s ?p ?o }")).body and executor.pids() != [first_process]


def test_a_query_that_crashed_the_engine_is_refused_unrun_until_the_data_changes(executor, data_version):
    crasher = job("ASK { ?s ?p ?o } #crash")
    with pytest.raises(QueryFailed, match="cannot evaluate it"):
        executor.run(crasher)
    executor.run(job("ASK {}"))
    [process] = executor.pids()

    with pytest.raises(QueryFailed, match="cannot evaluate it"):
        executor.run(crasher)  # asked again: refused without running, so nothing crashed
    assert executor.pids() == [process]
    assert b"true" in executor.run(job("ASK { ?s ?p ?o }")).body  # other queries still run

    data_version[0] = "second"  # new data: the query may not crash any more, so it runs (and crashes) again
    with pytest.raises(QueryFailed, match="cannot evaluate it"):
        executor.run(crasher)
    assert executor.pids() != [process]
