"""What the API wrote survives a reload from the files.

``graph-service load`` rebuilds the dataset from ``ontology/`` and ``data/``. Writes made through the API since
(SPARQL Update, Graph Store Protocol) are not in those files, so the loader looks at what the store holds before
replacing it:

- graphs that no source file produces (``graph/writes``, graphs a client PUT) are **carried over** into the new
  version, validated with everything else;
- the write log (``graph/write-log``) is history and is always carried over;
- a graph that a source file produces *and* that a write changed after the last load is a **conflict**: the file
  would silently overwrite the edit, so the load is refused and names the graph, the file and the writes, unless
  the caller chose to discard what the API wrote (``load --discard-writes``: the data becomes exactly the files);
- a graph that came from a source file which no longer exists is dropped (the load record says it came from a
  file), unless a write changed it since: then it is a conflict too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pyoxigraph import NamedNode, Quad

from ..namespaces import PROV, load_record_graph, write_log_graph
from ..store import GraphStore


@dataclass(frozen=True)
class Conflict:
    graph: str
    writes: tuple[str, ...]  # the write activities (``{base}id/write/...``) that changed it since the last load

    def line(self, files: dict[str, str]) -> str:
        origin = f" (from {files[self.graph]})" if self.graph in files else " (from a file that no longer exists)"
        return f"<{self.graph}>{origin} was changed through the API by " + ", ".join(f"<{w}>" for w in self.writes)


@dataclass
class CarriedOver:
    """What the next version keeps from the published one."""

    graphs: dict[str, list[Quad]] = field(default_factory=dict)  # data graphs written only through the API
    write_log: list[Quad] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def data_quads(self) -> list[Quad]:
        return [quad for quads in self.graphs.values() for quad in quads]

    def digest(self) -> str:
        """Changes exactly when the carried-over data does (part of the data version's digest)."""
        digest = hashlib.sha256()
        for graph in sorted(self.graphs):
            digest.update(f"\ngraph {graph}".encode())
            for line in sorted(str(quad) for quad in self.graphs[graph]):
                digest.update(f"\n{line}".encode())
        return digest.hexdigest()


def _iri(row: dict, name: str) -> str:
    return row[name].value


def _file_graphs(store: GraphStore, base_iri: str) -> set[str]:
    """Graphs the last load made from files (its record says so)."""
    rows = store.select(
        f"SELECT DISTINCT ?graph WHERE {{ GRAPH <{load_record_graph(base_iri)}> {{ "
        f"?graph <{PROV.wasDerivedFrom}> ?file }} }}"
    )
    return {_iri(row, "graph") for row in rows}


def _writes_since_last_load(store: GraphStore, base_iri: str) -> dict[str, list[str]]:
    """Graph → the write activities that changed it after the last load ended (all of them if never loaded)."""
    rows = store.select(
        f"SELECT ?graph ?write WHERE {{ "
        f"GRAPH <{write_log_graph(base_iri)}> {{ ?write <{PROV.generated}> ?graph ; <{PROV.endedAtTime}> ?ended }} "
        f"OPTIONAL {{ SELECT (MAX(?loaded) AS ?last) WHERE {{ GRAPH <{load_record_graph(base_iri)}> {{ "
        f"?load <{PROV.endedAtTime}> ?loaded }} }} }} "
        f"FILTER(!BOUND(?last) || ?ended > ?last) }} ORDER BY ?write"
    )
    changed: dict[str, list[str]] = {}
    for row in rows:
        changed.setdefault(_iri(row, "graph"), []).append(_iri(row, "write"))
    return changed


def carry_over(store: GraphStore, base_iri: str, source_graphs: set[str], *, discard_writes: bool) -> CarriedOver:
    """Decide what of the published data the next load keeps (see the module docstring)."""
    carried = CarriedOver()
    if store.version() is None:
        return carried
    names = set(store.graph_names())
    log_graph, record_graph = write_log_graph(base_iri), load_record_graph(base_iri)
    if log_graph in names:
        carried.write_log = list(store.quads(log_graph))
    if discard_writes:
        return carried
    from_files = _file_graphs(store, base_iri) if record_graph in names else set()
    changed = _writes_since_last_load(store, base_iri) if log_graph in names else {}
    # A graph the API dropped is in ``changed`` but no longer in ``names``: reloading its file would bring it back.
    for graph in sorted((names | changed.keys()) - {log_graph, record_graph}):
        if graph in source_graphs or graph in from_files:
            if graph in changed:
                carried.conflicts.append(Conflict(graph, tuple(changed[graph])))
            continue  # the file's version (or, for a file that is gone, nothing) replaces it
        if graph not in names:
            continue
        carried.graphs[graph] = [
            Quad(quad.subject, quad.predicate, quad.object, NamedNode(graph)) for quad in store.quads(graph)
        ]
    return carried
