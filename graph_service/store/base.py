"""The one interface every face reads the graph through (DESIGN.md "GraphStore").

Results are pyoxigraph's result objects whatever the backend, so the faces serialise them one way: a remote
backend parses the engine's answer into the same types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph
from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples

QueryResult = QuerySolutions | QueryBoolean | QueryTriples
Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple


class StoreError(Exception):
    """The store cannot do what was asked (unreadable, read-only, full disk...); the message says why."""


@dataclass(frozen=True)
class DataVersion:
    """Identifies the published data: ``digest`` changes exactly when the data does (ETags derive from it)."""

    digest: str
    published: datetime


class GraphStore(ABC):
    """A dataset of named graphs whose default graph, for queries, is the union of all graphs."""

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL 1.1 query. ``default_graphs=None`` means the union of all graphs.

        Raises ``SyntaxError`` (with the parser's message and position) for a malformed query.
        """

    @abstractmethod
    def version(self) -> DataVersion | None:
        """The published data version, or ``None`` while nothing has been published."""

    @abstractmethod
    def publish(self, quads: Iterable[pyoxigraph.Quad], digest: str) -> DataVersion:
        """Replace the whole dataset by ``quads``, atomically: readers see the old data or the new, never a mix.

        On any error the previously published data stays published.
        """

    @abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[pyoxigraph.Quad]:
        """Every quad (of one named graph when ``graph`` is given), for dumps and backups."""

    @abstractmethod
    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files or connections."""

    # Conveniences shared by every backend.
    def ask(self, sparql: str) -> bool:
        result = self.query(sparql)
        if not isinstance(result, QueryBoolean):
            raise TypeError("not an ASK query")
        return bool(result)

    def select(self, sparql: str) -> list[dict[str, Term]]:
        """SELECT solutions as dicts (unbound variables are absent)."""
        result = self.query(sparql)
        if not isinstance(result, QuerySolutions):
            raise TypeError("not a SELECT query")
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            rows.append({name: solution[name] for name in names if solution[name] is not None})
        return rows

    def construct(self, sparql: str) -> list[pyoxigraph.Triple]:
        result = self.query(sparql)
        if not isinstance(result, QueryTriples):
            raise TypeError("not a CONSTRUCT or DESCRIBE query")
        return list(result)
