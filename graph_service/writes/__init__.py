"""Writes: SPARQL 1.1 Update and the Graph Store Protocol, authenticated, SHACL-validated, recorded with PROV.

- :mod:`.auth` — bearer tokens (read-only without any);
- :mod:`.update_text` — what an update may do (no LOAD, SERVICE as for queries) and the protocol's dataset;
- :mod:`.payload` — RDF bodies, parsed without fetching anything;
- :mod:`.validation` — SHACL on the resulting data, restricted to the nodes a write can affect;
- :mod:`.provenance` — PROV about each write;
- :mod:`.service` — one write from start to end.

The store applies a write copy-on-write and publishes it as a new data version (ETags change);
see :meth:`graph_service.store.base.GraphStore.update` for what the default graph means when writing.
"""

from .auth import AuthError, Tokens, new_token
from .payload import Payload, PayloadError, parse_payload
from .provenance import WriteRequest, write_log_graph, writes_graph
from .service import Writes
from .update_text import UpdateRefused
from .validation import WriteRejected

__all__ = [
    "AuthError", "Payload", "PayloadError", "Tokens", "UpdateRefused", "WriteRejected", "WriteRequest", "Writes",
    "new_token", "parse_payload", "write_log_graph", "writes_graph",
]
