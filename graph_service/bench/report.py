"""The benchmark's markdown report: one table per size, ratios next to absolute numbers, and the targets."""

from __future__ import annotations

from dataclasses import dataclass

from .loadgen import Measurement
from .runner import (
    BACKEND_ALONE,
    HELLO,
    OURS,
    OURS_VIRTUOSO,
    OVERHEAD_MODES,
    RDFLIB,
    VIRTUOSO,
    BenchResult,
    SizeResult,
    size_label,
)

#: The size the issue's targets are set at.
TARGET_SIZE = 1_000_000


def _rate(m: Measurement | None) -> str:
    if m is None:
        return "–"
    if m.requests == 0:
        return f"0 ({m.errors} err)"
    rate = m.throughput
    text = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"
    return text + (f" ({m.errors} err)" if m.errors else "")


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _ratio(ours: Measurement | None, theirs: Measurement | None) -> str:
    value = ratio(ours, theirs)
    if value is None:
        return "–"
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2f}×"


def ratio(ours: Measurement | None, theirs: Measurement | None) -> float | None:
    """How many times ours' throughput is theirs' (throughput: what a server sustains with the same clients)."""
    if ours is None or theirs is None or ours.requests == 0:
        return None
    if theirs.requests == 0:
        return None
    return ours.throughput / theirs.throughput


def _p(m: Measurement | None) -> str:
    return "–" if m is None else f"{_ms(m.p50_ms)} / {_ms(m.p95_ms)}"


def size_table(size: SizeResult) -> list[str]:
    hello = size.get("hello", HELLO)
    has_rdflib = any(RDFLIB in per for per in size.measurements.values())
    has_virtuoso = any(VIRTUOSO in per for per in size.measurements.values())
    has_remote = any(OURS_VIRTUOSO in per for per in size.measurements.values())
    header = ["workload", "ours req/s", "ours p50 / p95 ms", "ours ÷ hello"]
    if has_rdflib:
        header += ["rdflib-endpoint req/s", "rdflib p50 ms", "ours ÷ rdflib"]
    if has_virtuoso:
        header += ["Virtuoso req/s", "Virtuoso p50 ms", "ours ÷ Virtuoso"]
    if has_remote:
        header += ["ours over Virtuoso req/s", "p50 ms", "ours ÷ ours over Virtuoso"]
        if has_virtuoso:
            header += ["ours over Virtuoso ÷ Virtuoso"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.append("| " + " | ".join(["hello (ceiling)", _rate(hello), _p(hello), "1"]
                                  + ["" for _ in header[4:]]) + " |")
    for workload in size.workloads:
        ours = size.get(workload.name, OURS)
        cells = [f"`{workload.name}`", _rate(ours), _p(ours), _percent(ours, hello)]
        if has_rdflib:
            theirs = size.get(workload.name, RDFLIB)
            cells += [_rate(theirs), _ms(theirs.p50_ms if theirs else None), _ratio(ours, theirs)]
        if has_virtuoso:
            theirs = size.get(workload.name, VIRTUOSO)
            cells += [_rate(theirs), _ms(theirs.p50_ms if theirs else None), _ratio(ours, theirs)]
        if has_remote:
            theirs = size.get(workload.name, OURS_VIRTUOSO)
            cells += [_rate(theirs), _ms(theirs.p50_ms if theirs else None), _ratio(ours, theirs)]
            if has_virtuoso:
                cells.append(_ratio(theirs, size.get(workload.name, VIRTUOSO)))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def added_ms(size: SizeResult, mode: str, percentile: str = "p50_ms") -> float | None:
    """What our service over the remote backend adds to Virtuoso's own latency for the cheap query (ms)."""
    measured = size.remote_overhead.get(mode, {})
    direct, ours = measured.get(VIRTUOSO), measured.get(OURS_VIRTUOSO)
    if direct is None or ours is None or getattr(direct, percentile) is None or getattr(ours, percentile) is None:
        return None
    return getattr(ours, percentile) - getattr(direct, percentile)


def overhead_table(size: SizeResult, connections: int) -> list[str]:
    """The remote-overhead measurement: the cheap query direct to Virtuoso and through our /sparql over it."""
    if not size.remote_overhead:
        return []
    any_side = next(iter(next(iter(size.remote_overhead.values())).values()))
    query = size.cheap.what if size.cheap else "a cheap SELECT"
    lines = [f"Remote backend overhead: {query}, {any_side.requests + any_side.errors:,} requests per row, sent "
             "directly to Virtuoso's `/sparql` (with the union as `default-graph-uri`) and to our `/sparql` served "
             "over the remote backend (`Cache-Control: no-cache`: no answer cache), by the same Python client "
             f"(keep-alive connections). The row \"{BACKEND_ALONE}\" leaves the HTTP face out: `RemoteStore.select` "
             "in the benchmark's process against the same GET sent with `http.client`, alternately.", "",
             "| mode | Virtuoso p50 / p95 ms | ours over Virtuoso p50 / p95 ms | added p50 / p95 ms |",
             "|---|---|---|---|"]
    for mode, measured in size.remote_overhead.items():
        count = OVERHEAD_MODES.get(mode) or connections
        label = mode if mode == BACKEND_ALONE else f"{mode} ({count} connection{'s' if count > 1 else ''})"
        added = f"{_signed(added_ms(size, mode))} / {_signed(added_ms(size, mode, 'p95_ms'))}"
        lines.append(f"| {label} | {_p(measured.get(VIRTUOSO))} | {_p(measured.get(OURS_VIRTUOSO))} | {added} |")
    return lines + [""]


def _signed(value: float | None) -> str:
    """A difference of latencies, to the hundredth of a millisecond (what a remote backend adds is about that)."""
    return "–" if value is None else ("+" if value >= 0 else "−") + f"{abs(value):,.2f}"


def _percent(ours: Measurement | None, hello: Measurement | None) -> str:
    value = ratio(ours, hello)
    return "–" if value is None else f"{value * 100:.1f} %"


@dataclass
class Target:
    what: str
    measured: str
    met: bool | None  # None: not measured in this run

    def line(self) -> str:
        verdict = "not measured" if self.met is None else "**met**" if self.met else "**missed**"
        return f"| {self.what} | {self.measured} | {verdict} |"


def targets(size: SizeResult) -> list[Target]:
    """The issue's targets, checked on one size's measurements."""
    hello = size.get("hello", HELLO)
    found: list[Target] = []

    def share(name: str, minimum: float, what: str) -> None:
        value = ratio(size.get(name, OURS), hello)
        found.append(Target(what, "–" if value is None else f"{value * 100:.1f} % of hello "
                            f"({_rate(size.get(name, OURS))} vs {_rate(hello)} req/s)",
                            None if value is None else value >= minimum))

    share("deref-ttl", 0.5, "dereference, Turtle (popular documents) ≥ 50 % of hello")
    share("deref-html", 0.3, "dereference, HTML (popular documents) ≥ 30 % of hello")
    share("deref-ttl-cold", 0.5, "dereference, Turtle, every request a new document ≥ 50 % of hello")
    share("deref-html-cold", 0.3, "dereference, HTML, every request a new document ≥ 30 % of hello")
    share("dashboard-refresh", 0.5, "repeated identical query (answer cache) ≥ 50 % of hello")
    slower = []
    compared = 0
    for workload in size.workloads:
        value = ratio(size.get(workload.name, OURS), size.get(workload.name, RDFLIB))
        if value is None:
            continue
        compared += 1
        if value < 10:
            slower.append(f"`{workload.name}` {value:.1f}×")
    found.append(Target("every workload ≥ 10× rdflib-endpoint's throughput",
                        f"{compared} compared" + (f"; below 10×: {', '.join(slower)}" if slower else
                                                  (", all ≥ 10×" if compared else "")),
                        None if compared == 0 else not slower))
    for name, other, label in (("facet-counts", VIRTUOSO, "Virtuoso (same SPARQL)"),
                               ("catalogue-page", OURS_VIRTUOSO, "our catalogue over Virtuoso (same SPARQL)"),
                               ("browse-facets", OURS_VIRTUOSO, "our facet pages over Virtuoso (same SPARQL)")):
        value = ratio(size.get(name, OURS), size.get(name, other))
        found.append(Target(f"`{name}` within 2× of {label}",
                            "–" if value is None else f"ours {value:.2f}× its throughput "
                            f"(p50 {_ms(size.get(name, OURS).p50_ms)} vs {_ms(size.get(name, other).p50_ms)} ms)",
                            None if value is None else value >= 0.5))
    added = added_ms(size, "sequential")
    measured = (f"{_signed(added)} ms (p95 {_signed(added_ms(size, 'sequential', 'p95_ms'))} ms; concurrent p50 "
                f"{_signed(added_ms(size, 'concurrent'))} ms; the backend alone p50 "
                f"{_signed(added_ms(size, BACKEND_ALONE))} ms)")
    found.append(Target("the remote backend adds ≤ 2 ms to a cheap query through our `/sparql` (issue 8; "
                        "sequential p50)",
                        "–" if added is None else measured, None if added is None else added <= 2.0))
    found.append(Target("start-up to serving the built store < 3 s",
                        "–" if size.startup_s is None else f"{size.startup_s:.2f} s to the first /ready 200",
                        None if size.startup_s is None else size.startup_s < 3))
    found.append(Target("server memory < 1 GB",
                        "–" if size.memory_mb is None else f"PSS {size.memory_mb[0]:,.0f} MB (RSS sum "
                        f"{size.memory_mb[1]:,.0f} MB) after the portal workloads, all processes"
                        + _with_long_queries(size),
                        None if size.memory_mb is None else size.memory_mb[0] < 1024))
    return found


def markdown(bench: BenchResult, notes: str = "") -> str:
    config = bench.config
    lines = [
        "# Benchmarks",
        "",
        "Generated by `graph-service bench` (`make bench`); see \"How to read this\" at the end. Machine: "
        f"{bench.machine}. Load generator: {bench.client}, {config.connections} connections, "
        f"{config.duration_s:g} s per workload after a {config.warmup_s:g} s warm-up (none for `*-cold` "
        f"workloads and rdflib-endpoint), loopback only. Server: `graph-service serve` (gunicorn gthread), "
        f"{bench.sizes[0].workers if bench.sizes else '?'} workers × {config.threads} threads; hello under the "
        f"same settings. Whole run: {bench.total_s / 60:,.1f} min.",
        "",
    ]
    for size in bench.sizes:
        build = size.build
        lines += [f"## {size_label(size.size)} triples", ""]
        facts = [f"{build.triples:,} triples, {size.cases:,} generated cases; generated and published in "
                 f"{build.seconds:,.1f} s = **{build.triples_per_s:,.0f} triples/s**, peak RSS of the loading "
                 f"process {build.peak_rss_mb:,.0f} MB" + (" (store reused, not rebuilt)" if build.reused else "")]
        if size.validation:
            v = size.validation
            facts.append(f"SHACL validation of the same data (pyshacl, as `graph-service load` does; generated "
                         f"data is published without it): {v.seconds:,.1f} s = {v.triples / v.seconds:,.0f} "
                         f"triples/s, {'conforms' if v.conforms else f'{v.violations} violations'}")
        if size.startup_s is not None:
            facts.append(f"start-up to serving (first `/ready` 200): **{size.startup_s:.2f} s**")
        if size.first_catalogue_s is not None:
            facts.append(f"first `/catalog` after the publish, which writes every download to state its size and "
                         f"checksum: {size.first_catalogue_s:,.1f} s (once per data version; not in the table)")
        if size.memory_mb:
            facts.append(f"server memory after the portal workloads: **PSS {size.memory_mb[0]:,.0f} MB** (RSS summed "
                         f"over processes {size.memory_mb[1]:,.0f} MB; master, workers, query processes)"
                         + _with_long_queries(size))
        if size.rdflib_load_s is not None:
            facts.append(f"rdflib-endpoint: loaded in {size.rdflib_load_s:,.1f} s, RSS "
                         f"{size.rdflib_memory_mb or 0:,.0f} MB")
        if size.virtuoso_load_s is not None:
            facts.append(f"Virtuoso: loaded through the remote backend in {size.virtuoso_load_s:,.1f} s, RSS "
                         f"{size.virtuoso_memory_mb or 0:,.0f} MB")
        if size.ours_virtuoso_first_catalogue_s is not None:
            facts.append(f"ours over Virtuoso (`AIWATCH_BACKEND=remote`, same data): first `/catalog` with every "
                         f"download written {size.ours_virtuoso_first_catalogue_s:,.1f} s")
        lines += [f"- {fact}" for fact in facts] + [""]
        lines += size_table(size) + [""]
        lines += overhead_table(size, config.connections)
        if size.isolation:
            lines.append("Long queries and cheap ones (2 clients keep a query sorting every triple running, "
                         "`Cache-Control: no-cache`, while the cheap workload is measured again):")
            lines.append("")
            lines.append("| workload | alone req/s | alone p50 / p95 ms | with long queries req/s | p50 / p95 ms |")
            lines.append("|---|---|---|---|---|")
            for name, measurement in size.isolation.items():
                alone = size.get(name, OURS)
                lines.append(f"| `{name}` | {_rate(alone)} | {_p(alone)} | {_rate(measurement)} | "
                             f"{_p(measurement)} |")
            lines.append("")
        if size.size == TARGET_SIZE or (len(bench.sizes) == 1):
            lines += [f"Targets (issue 6, at {size_label(size.size)}):", "", "| target | measured | |",
                      "|---|---|---|"]
            lines += [target.line() for target in targets(size)] + [""]
        lines += [f"- {note}" for note in size.notes] + ([""] if size.notes else [])
    lines += ["## Workloads", ""]
    if bench.sizes:
        lines += [f"- `{w.name}`: {w.what}" + (" — answer cache allowed" if w.cached else
                                                " — sent with `Cache-Control: no-cache`")
                  for w in bench.sizes[0].workloads]
    lines += [""]
    if notes:
        lines += [notes.rstrip(), ""]
    return "\n".join(lines)


NOTES_MARKER = "<!-- notes -->"


def write_report(bench: BenchResult, output) -> str:
    """The report as text; written to ``output`` (a path) keeping the hand-written notes after NOTES_MARKER."""
    from pathlib import Path

    notes = ""
    if output is not None:
        path = Path(output)
        if path.exists():
            previous = path.read_text()
            if NOTES_MARKER in previous:
                notes = NOTES_MARKER + previous.split(NOTES_MARKER, 1)[1]
    text = markdown(bench, notes)
    if output is not None:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text)
    return text


def _with_long_queries(size: SizeResult) -> str:
    if size.memory_with_long_queries_mb is None:
        return ""
    pss, rss = size.memory_with_long_queries_mb
    return f"; with 2 queries sorting every triple running: PSS {pss:,.0f} MB (RSS sum {rss:,.0f} MB)"
