"""Serve an N-Quads file with rdflib-endpoint on 127.0.0.1 (run by the benchmark, possibly in another virtualenv).

Usage: ``python rdflib_server.py DATA.nq PORT``. Standalone on purpose: it imports only rdflib, rdflib-endpoint and
uvicorn, so it runs with the interpreter of ``.venv-bench`` when rdflib-endpoint's dependencies (FastAPI) are not
installed in the project's environment. The union of the named graphs is the default graph, as in our service.
``GET /ready`` answers once the data is loaded.
"""

from __future__ import annotations

import sys

import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def main(data_file: str, port: int) -> None:
    dataset = Dataset(default_union=True)
    dataset.parse(data_file, format="nquads")
    app = SparqlEndpoint(graph=dataset, path="/sparql", title="rdflib-endpoint (benchmark)", cors_enabled=False)

    @app.get("/ready")
    def ready() -> dict[str, int]:
        return {"triples": len(dataset)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
