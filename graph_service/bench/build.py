"""Building the store of one benchmark size: generate, publish (the store's own atomic publish), measure.

Run in a process of its own (``python -m graph_service.bench.build``) so that its peak resident memory is the load's
alone. Generated data is published **without SHACL validation** (pyshacl over millions of triples would take hours
and tens of GB); :func:`validate` measures validation separately, on the smallest size, with the loader's own
shapes and validator, and the benchmark reports whether that data conforms.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from pyoxigraph import Quad

from ..config import Settings
from ..loading.validation import load_shapes, to_rdflib, validate_graph
from ..store import OxigraphStore
from .generate import base_quads, generated_quads, plan, read_templates


@dataclass
class BuildResult:
    store_path: str
    digest: str
    triples: int  # distinct triples of the union (no generated triple repeats a base one)
    quads: int  # as published: named graphs (the store adds the union default graph)
    cases: int
    seconds: float  # generate + publish (they are one stream)
    triples_per_s: float
    peak_rss_mb: float
    reused: bool = False


@dataclass
class ValidationResult:
    triples: int
    seconds: float
    conforms: bool
    violations: int


def _counted(quads: Iterator[Quad], counter: list[int]) -> Iterator[Quad]:
    for quad in quads:
        counter[0] += 1
        yield quad


def build(settings: Settings, store_path: Path, target_triples: int, seed: int, *, reuse: bool = False
          ) -> BuildResult:
    templates = read_templates(settings)
    the_plan = plan(templates, target_triples, seed)
    digest = the_plan.digest(templates)
    store = OxigraphStore(store_path, keep_versions=0)
    current = store.version()
    if reuse and current is not None and current.digest == digest:
        triples = len(list(store.query("SELECT * WHERE { ?s ?p ?o }")))
        return BuildResult(str(store_path), digest, triples, 0, the_plan.cases, 0.0, 0.0, _peak_rss_mb(),
                           reused=True)
    counter = [0]
    started = time.perf_counter()
    quads = _counted(_chain(base_quads(settings, templates), generated_quads(settings, templates, the_plan)), counter)
    store.publish(quads, digest)
    seconds = time.perf_counter() - started
    store.close()
    return BuildResult(str(store_path), digest, counter[0], counter[0], the_plan.cases, seconds,
                       counter[0] / seconds, _peak_rss_mb())


def _chain(first: list[Quad], then: Iterator[Quad]) -> Iterator[Quad]:
    yield from first
    yield from then


def validate(settings: Settings, target_triples: int, seed: int) -> ValidationResult:
    """SHACL-validate the data of one size exactly as the loader validates real data (in memory, pyshacl)."""
    templates = read_templates(settings)
    the_plan = plan(templates, target_triples, seed)
    quads = [*templates.base, *generated_quads(settings, templates, the_plan)]
    started = time.perf_counter()
    report = validate_graph(to_rdflib(quads), load_shapes(settings.shapes_dir, settings.base_iri))
    return ValidationResult(len(quads), time.perf_counter() - started, report.conforms, len(report.violations))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--triples", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--validate", action="store_true", help="measure SHACL validation instead of building")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.validate:
        print(json.dumps(asdict(validate(settings, args.triples, args.seed))))
    else:
        print(json.dumps(asdict(build(settings, args.store, args.triples, args.seed, reuse=args.reuse))))


if __name__ == "__main__":
    main(sys.argv[1:])
