"""``graph-service bench``: the service against its ceiling and its peers, on data shaped like the real graph.

- :mod:`.generate` makes data of any size from the real project (:mod:`.build` publishes it and measures the load);
- :mod:`.workloads` is the fixed portal mix; :mod:`.loadgen` sends it over HTTP (wrk, or a small Python client);
- :mod:`.targets` starts and stops the servers (ours, a bare Flask "hello", rdflib-endpoint, Virtuoso);
- :mod:`.runner` runs it all, :mod:`.report` writes the markdown table (docs/benchmarks.md).
"""

from __future__ import annotations

from .runner import BenchConfig, BenchResult, parse_size, run_bench

__all__ = ["BenchConfig", "BenchResult", "parse_size", "run_bench"]
