"""One write, start to end: authenticate, check the text, apply it to the store, validate, record PROV, publish.

Both write faces (SPARQL Update at ``/sparql`` and ``/update``, the Graph Store Protocol at ``/rdf-graph-store``)
and any other caller go through :class:`Writes`; the store does the copy-on-write and the commit
(:meth:`graph_service.store.base.GraphStore.update`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from pyoxigraph import NamedNode, Quad

from ..config import Settings
from ..loading.validation import load_shapes
from ..namespaces import load_record_graph
from ..store.base import ChangeSet, GraphStore, WriteResult
from .auth import Tokens
from .provenance import WriteRequest, provenance, write_log_graph, writes_graph
from .update_text import UpdateRefused, check_update, has_patterns, with_dataset
from .validation import WriteValidator

UPDATE_TYPE = "application/sparql-update"


class Writes:
    """The write side of one app: its writers (tokens), its store and the validator mirroring that store."""

    def __init__(self, settings: Settings, store: GraphStore) -> None:
        self.settings = settings
        self.store = store
        self.tokens = Tokens.from_settings(settings)  # a malformed token configuration fails at start-up
        self._validator: WriteValidator | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.tokens.enabled

    @property
    def records(self) -> frozenset[str]:
        """The graphs the service keeps (PROV of loads and writes): append-only, and only the service appends."""
        return frozenset({load_record_graph(self.settings.base_iri), write_log_graph(self.settings.base_iri)})

    def validator(self) -> WriteValidator:
        with self._lock:
            if self._validator is None:
                shapes = load_shapes(self.settings.shapes_dir, self.settings.base_iri)
                self._validator = WriteValidator(self.store, shapes)
            return self._validator

    def update(self, writer: str, text: str, *, using: Sequence[str] = (), using_named: Sequence[str] = (),
               base_iri: str | None = None) -> WriteResult:
        """Run a client's SPARQL Update (IRIs already in store form).

        Raises ``UpdateRefused`` (LOAD, SERVICE, dataset conflict), ``SyntaxError``, ``WriteRejected`` (SHACL),
        ``StoreError``.
        """
        started = datetime.now(UTC)
        check_update(text, self.settings.sparql_service_allowlist)
        request = WriteRequest(writer, "SPARQL Update", UPDATE_TYPE, hashlib.sha256(text.encode("utf-8")).hexdigest(),
                               text=text, started=started)
        # Only matching patterns can run away (INSERT DATA, CLEAR... cost what their data costs): time-limited.
        timeout = self.settings.update_timeout_s if has_patterns(text) else None
        return self.apply(with_dataset(text, using, using_named), request, base_iri, timeout_s=timeout)

    def apply(self, sparql: str, request: WriteRequest, base_iri: str | None = None, *,
              timeout_s: float | None = None) -> WriteResult:
        """Apply ``sparql`` (built by this service, or checked by :meth:`update`), recorded as ``request``."""
        validator = self.validator()
        base = self.settings.base_iri
        result = self.store.update(
            sparql, default_target=writes_graph(base), base_iri=base_iri, check=validator.check,
            record=lambda changes: self._record(request, changes), timeout_s=timeout_s,
        )
        validator.committed(result.changes, result.version.digest)
        return result

    def _record(self, request: WriteRequest, changes: ChangeSet) -> list[Quad]:
        """PROV for the write; what it removed from the record graphs is put back (CLEAR ALL keeps the history)."""
        def recorded(quad: Quad) -> bool:
            return isinstance(quad.graph_name, NamedNode) and quad.graph_name.value in self.records

        if any(recorded(quad) for quad in changes.added):
            raise UpdateRefused(403, "The graphs " + ", ".join(f"<{g}>" for g in sorted(self.records))
                                + " record loads and writes; only the service writes to them.")
        kept = [quad for quad in changes.removed if recorded(quad)]
        requested = dataclasses.replace(changes, removed=tuple(q for q in changes.removed if not recorded(q)))
        return [*kept, *provenance(self.settings.base_iri, request, requested)]
