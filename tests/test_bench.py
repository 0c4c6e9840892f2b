"""`graph-service bench --quick` runs end to end once: data generated, store built, servers started on 127.0.0.1,
every workload measured, the markdown report written. No timing is asserted: only that it works and reports."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from graph_service.bench.loadgen import run
from graph_service.bench.runner import parse_size, size_label
from graph_service.bench.workloads import Variant, portal_mix
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
    assert re.search(rf"server memory after the run: \*\*PSS {NUMBER} MB\*\*", text)
    assert "| `deref-ttl` |" in text.split("Long queries and cheap ones")[1]
    assert (tmp_path / "work" / "results.json").exists()


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
