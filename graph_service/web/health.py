"""Liveness and readiness for load balancers and operators."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import __version__
from . import context

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health():
    """The process is up (liveness); says nothing about the data."""
    return jsonify(status="ok", version=__version__)


@blueprint.get("/ready")
def ready():
    """The store is open and has published data (readiness); 503 until then."""
    try:
        version = context.store().version()
        context.store().ask("ASK { ?s ?p ?o }")
    except Exception as error:  # noqa: BLE001 - any store failure means not ready
        return jsonify(status="unavailable", error=str(error)), 503
    if version is None:
        return jsonify(status="empty", error="no data published yet: run `graph-service load`"), 503
    return jsonify(status="ready", data_version=version.digest, published=version.published.isoformat(),
                   backend=context.settings().backend)
