"""The one interface every face reads the graph through (DESIGN.md "GraphStore").

Results are pyoxigraph's result objects whatever the backend, so the faces serialise them one way: a remote
backend parses the engine's answer into the same types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph
from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples

QueryResult = QuerySolutions | QueryBoolean | QueryTriples
Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple


class StoreError(Exception):
    """The store cannot do what was asked (unreadable, read-only, full disk...); the message says why."""


class WriteTimeout(StoreError):
    """A write ran past its time limit and was cancelled; nothing changed."""


class QueryTimedOut(StoreError):
    """The store's engine stopped a query at its time limit (``seconds``); no partial answer is returned."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(seconds, detail)  # args as given: picklable, like every error crossing a process boundary
        self.seconds = seconds
        self.detail = detail

    def __str__(self) -> str:
        return f"the query was stopped at the time limit of {self.seconds:g} s" + (
            f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class DataVersion:
    """Identifies the published data: ``digest`` changes exactly when the data does (ETags derive from it)."""

    digest: str
    published: datetime


@dataclass(frozen=True)
class ChangeSet:
    """What one write changes: quads of the named graphs, and triples of the union default graph.

    ``added`` / ``removed`` are net changes (a quad both removed and re-added is in neither). The union lists say
    which triples appear in or vanish from the default graph, the data that queries and SHACL see.
    """

    added: tuple[pyoxigraph.Quad, ...]
    removed: tuple[pyoxigraph.Quad, ...]
    union_added: tuple[pyoxigraph.Triple, ...]
    union_removed: tuple[pyoxigraph.Triple, ...]
    #: The version the write started from (``None``: nothing was published).
    before: DataVersion | None

    def graphs(self) -> list[str]:
        """The named graphs whose content changes, sorted."""
        return sorted({q.graph_name.value for q in (*self.added, *self.removed)
                       if isinstance(q.graph_name, pyoxigraph.NamedNode)})


@dataclass(frozen=True)
class WriteResult:
    version: DataVersion
    changes: ChangeSet


#: Called with the complete change of a write before it commits; raising refuses the write (nothing changes).
WriteCheck = Callable[[ChangeSet], None]
#: Called with the change of a write; returns quads (in named graphs) recorded with it, e.g. PROV about the write.
WriteRecord = Callable[[ChangeSet], Iterable[pyoxigraph.Quad]]


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

    def update(
        self,
        sparql: str,
        *,
        default_target: str,
        base_iri: str | None = None,
        check: WriteCheck | None = None,
        record: WriteRecord | None = None,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Apply a SPARQL 1.1 Update as one atomic write, and publish the result as a new data version.

        The default graph stays the union of the named graphs, for writing too: triples an update inserts into the
        default graph (no ``GRAPH``) land in the named graph ``default_target``; triples it deletes from the
        default graph are deleted from every named graph holding them (``CLEAR DEFAULT`` empties the dataset),
        except where the same request inserts them into a named graph explicitly (a move). Patterns without
        ``GRAPH`` match the union as it was when the request started: changes to named graphs made by earlier
        operations of the same request are visible through ``GRAPH`` patterns only.

        ``record`` adds quads (PROV) to the write; ``check`` then sees the complete change and may raise to refuse
        it: nothing is published and the exception propagates. Writes are serialised (across processes too), and
        each starts from the latest published version, so concurrent writers never lose one another's changes.
        Raises ``SyntaxError`` for a malformed update, :class:`WriteTimeout` when evaluating it takes longer than
        ``timeout_s`` (a WHERE can cost as much as any query; ``None``: no limit, for updates without patterns),
        :class:`StoreError` when the store cannot be written.
        """
        raise StoreError("this backend is read-only")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files or connections."""

    def with_query_time_limit(self, seconds: float) -> GraphStore:
        """This store, its queries limited to ``seconds`` (the service's own long reads, e.g. writing downloads)
        instead of the clients' time limit; the default (the embedded store) limits none of the service's own
        reads (clients' queries are limited by the killable query processes, graph_service.sparql.execution)."""
        return self

    def worker_opener(self) -> Callable[[], GraphStore] | None:
        """A picklable callable opening this same store in another process, so that the SPARQL face can run
        queries in worker processes it kills at the time limit; ``None`` (default): queries run in the calling
        thread, the store enforcing the limit itself (a remote engine stops its own work)."""
        return None

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
