"""`graph-service bench --quick` runs end to end once: data generated, store built, servers started on 127.0.0.1,
every workload measured, the markdown report written. No timing is asserted: only that it works and reports."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from graph_service.bench.build import BuildResult
from graph_service.bench.loadgen import Measurement, run
from graph_service.bench.report import markdown
from graph_service.bench.runner import (
    BACKEND_ALONE,
    HELLO,
    OURS,
    OURS_VIRTUOSO,
    VIRTUOSO,
    BenchConfig,
    BenchResult,
    SizeResult,
    parse_size,
    size_label,
)
from graph_service.bench.workloads import Variant, cheap_query, portal_mix
from graph_service.config import Settings

WORKLOADS = ["cases-per-member-state", "sorted-page", "text-filter", "describe", "two-hop-optional", "facet-counts",
             "dashboard-refresh", "deref-ttl", "deref-html", "deref-ttl-cold", "deref-html-cold", "catalogue-page",
             "browse-facets"]
NUMBER = r"[0-9][0-9,.]*"


@pytest.mark.slow
def test_quick_benchmark_reports_every_workload_with_numbers(tmp_path):
    report = tmp_path / "benchmarks.md"
    report.write_text("old table\n<!-- notes -->\n## Analysis\nkept by hand\n")
    completed = subprocess.run(
        [sys.executable, "-m", "graph_service.cli", "bench", "--quick", "--workdir", str(tmp_path / "work"),
         "--output", str(report)], capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = report.read_text()
    assert "old table" not in text and text.rstrip().endswith("kept by hand")  # table replaced, notes kept
    hello = re.search(rf"^\| hello \(ceiling\) \| ({NUMBER}) \| ({NUMBER}) / ({NUMBER}) \| 1 \|", text, re.MULTILINE)
    assert hello, text
    for name in WORKLOADS:
        row = re.search(rf"^\| `{name}` \| ({NUMBER}) \| ({NUMBER}) / ({NUMBER}) \| ({NUMBER}) % \|", text,
                        re.MULTILINE)
        assert row, f"no measured row for {name}:\n{text}"
        assert float(row.group(1).replace(",", "")) > 0  # requests were answered (errors would show as "(n err)")
    assert "err)" not in text
    assert re.search(rf"\*\*({NUMBER}) triples/s\*\*", text)
    assert re.search(r"SHACL validation of the same data .* conforms", text)
    assert re.search(rf"start-up to serving \(first `/ready` 200\): \*\*{NUMBER} s\*\*", text)
    assert re.search(rf"server memory after the portal workloads: \*\*PSS {NUMBER} MB\*\*", text)
    assert "| `deref-ttl` |" in text.split("Long queries and cheap ones")[1]
    assert (tmp_path / "work" / "results.json").exists()
    # Each server's origin is a port of this run that no later run serves: its copy of the data is removed with it.
    written = [p for p in (tmp_path / "work").glob("store-*/downloads/*/*") if re.fullmatch("[0-9a-f]{12}", p.name)]
    assert written == []
    assert list((tmp_path / "work").glob("store-*/downloads/*/canonical"))  # what any origin's files start from


def test_sizes_are_read_as_people_write_them():
    assert [parse_size(s) for s in ("100k", "1M", "2.5M", "10M", "1500")] == [100_000, 1_000_000, 2_500_000,
                                                                             10_000_000, 1500]
    assert [size_label(n) for n in (100_000, 1_000_000, 10_000_000, 1500)] == ["100k", "1M", "10M", "1500"]
    with pytest.raises(ValueError):
        parse_size("lots")


def test_the_mix_has_every_workload_and_engine_queries_bypass_the_cache():
    settings = Settings.from_env(environ={})
    mix = portal_mix(settings.base_iri, [f"bench-{n}" for n in range(1, 500)],
                     [settings.base_iri + "id/member-state/esp", settings.base_iri + "id/member-state/fra"],
                     ["chatbot", "traffic"])
    assert [w.name for w in mix] == WORKLOADS
    for workload in mix:
        variants = workload.variants("/sparql")
        assert variants and all(v.path.startswith("/") for v in variants)
        assert (("Cache-Control", "no-cache") in variants[0].headers) == (not workload.cached)
    cold = next(w for w in mix if w.name == "deref-ttl-cold")
    assert len(set(cold.paths)) == len(cold.paths) == 499  # never the same document twice


def test_load_is_only_ever_sent_to_this_machine():
    with pytest.raises(ValueError):
        run("http://192.0.2.1:80", [Variant("/")], connections=1, duration_s=0.1)


def measured(requests_per_s: float, p50: float, p95: float) -> Measurement:
    return Measurement(int(requests_per_s * 10), 10.0, p50, p95, 0, "python")


def one_size(overhead_ms: float) -> SizeResult:
    """A size as the runner leaves it after comparing with Virtuoso, with made-up numbers (the report's arithmetic
    is what is tested; the quick benchmark runs the real thing)."""
    settings = Settings.from_env(environ={})
    mix = portal_mix(settings.base_iri, [f"bench-{n}" for n in range(1, 50)],
                     [settings.base_iri + "id/member-state/esp"], ["chatbot"])
    size = SizeResult(10_000, BuildResult("store", "digest", 10_000, 10_000, 50, 1.0, 10_000.0, 100.0), 50,
                      workloads=mix, cheap=cheap_query(settings.base_iri, "esp"))
    size.measurements["hello"] = {HELLO: measured(2000, 0.5, 1.0)}
    size.measurements["facet-counts"] = {OURS: measured(1000, 1.0, 2.0), VIRTUOSO: measured(500, 2.0, 4.0),
                                         OURS_VIRTUOSO: measured(250, 4.0, 8.0)}
    size.measurements["deref-ttl"] = {OURS: measured(1200, 1.0, 2.0), OURS_VIRTUOSO: measured(400, 3.0, 6.0)}
    for mode in ("sequential", "concurrent", BACKEND_ALONE):
        size.remote_overhead[mode] = {VIRTUOSO: measured(900, 0.5, 1.0),
                                      OURS_VIRTUOSO: measured(300, 0.5 + overhead_ms, 1.0 + 2 * overhead_ms)}
    return size


def report_of(size: SizeResult) -> str:
    return markdown(BenchResult(BenchConfig(sizes=[size.size]), [size], "python", "test machine"))


def test_the_report_compares_ours_over_virtuoso_and_states_the_remote_overhead():
    text = report_of(one_size(overhead_ms=1.5))
    header = next(line for line in text.splitlines() if line.startswith("| workload |"))
    assert header.endswith("| ours over Virtuoso req/s | p50 ms | ours ÷ ours over Virtuoso | "
                           "ours over Virtuoso ÷ Virtuoso |")
    facets = next(line for line in text.splitlines() if line.startswith("| `facet-counts` |"))
    assert facets.endswith("| 250 | 4.0 | 4.00× | 0.50× |")  # 1000/250 and 250/500
    deref = next(line for line in text.splitlines() if line.startswith("| `deref-ttl` |"))
    assert deref.endswith("| 400 | 3.0 | 3.00× | – |"), "a page workload has no Virtuoso of its own"
    assert "| sequential (1 connection) | 0.50 / 1.0 | 2.0 / 4.0 | +1.50 / +3.00 |" in text
    assert "| concurrent (8 connections) | 0.50 / 1.0 | 2.0 / 4.0 | +1.50 / +3.00 |" in text
    assert f"| {BACKEND_ALONE} | 0.50 / 1.0 | 2.0 / 4.0 | +1.50 / +3.00 |" in text
    target = next(line for line in text.splitlines() if "adds ≤ 2 ms" in line)
    assert target.endswith("| **met** |") and "+1.50 ms" in target


def test_an_overhead_above_two_milliseconds_misses_the_target():
    target = next(line for line in report_of(one_size(overhead_ms=2.5)).splitlines() if "adds ≤ 2 ms" in line)
    assert target.endswith("| **missed** |") and "+2.50 ms" in target


def test_without_virtuoso_the_overhead_is_not_measured():
    size = one_size(overhead_ms=1.0)
    size.remote_overhead.clear()
    text = report_of(size)
    assert "Remote backend overhead" not in text
    assert next(line for line in text.splitlines() if "adds ≤ 2 ms" in line).endswith("| not measured |")


@pytest.mark.slow
@pytest.mark.virtuoso
def test_quick_benchmark_over_virtuoso_measures_every_workload_and_the_overhead(tmp_path):
    """The quick run with the Virtuoso comparison: the service over the remote backend answers every workload
    (catalogue and pages too) without errors, and the remote overhead is measured."""
    report = tmp_path / "benchmarks.md"
    completed = subprocess.run(
        [sys.executable, "-m", "graph_service.cli", "bench", "--quick", "--virtuoso", "auto", "--workdir",
         str(tmp_path / "work"), "--output", str(report)], capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = report.read_text()
    assert "comparison failed" not in text and "failed" not in text, text
    sparql = {"cases-per-member-state", "sorted-page", "text-filter", "describe", "two-hop-optional",
              "facet-counts", "dashboard-refresh"}
    for name in WORKLOADS:
        cells = [cell.strip() for cell in re.search(rf"^\| `{name}` \|(.*)\|$", text, re.MULTILINE).group(1).split("|")]
        # ours (3 cells), Virtuoso (3), ours over Virtuoso (3), over Virtuoso ÷ Virtuoso
        over_virtuoso = cells[6]
        assert re.fullmatch(NUMBER, over_virtuoso) and float(over_virtuoso.replace(",", "")) > 0, (name, cells)
        assert re.fullmatch(rf"{NUMBER}×", cells[9]) if name in sparql else cells[9] == "–", (name, cells)
    for mode in ("sequential (1 connection)", "concurrent (2 connections)", BACKEND_ALONE):
        assert re.search(rf"^\| {re.escape(mode)} \| {NUMBER} / {NUMBER} \| {NUMBER} / {NUMBER} \| "
                         rf"[+−]{NUMBER} / [+−]{NUMBER} \|$", text, re.MULTILINE), (mode, text)
    assert re.search(r"adds ≤ 2 ms .* \| \*\*(met|missed)\*\* \|$", text, re.MULTILINE)
