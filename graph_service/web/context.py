"""What a request handler needs from the app: the store and the settings."""

from __future__ import annotations

from flask import current_app

from ..config import Settings
from ..store import GraphStore


def store() -> GraphStore:
    return current_app.extensions["graph_store"]


def settings() -> Settings:
    return current_app.config["SETTINGS"]
