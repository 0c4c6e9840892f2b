"""The Flask application factory: one blueprint per face, all reading one :class:`GraphStore`."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..store import GraphStore, open_store


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> Flask:
    """Build the WSGI app over ``store`` (default: the configured backend)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.extensions["graph_store"] = store or open_store(settings)

    from . import health, http, query_ui

    http.install(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(query_ui.blueprint)
    from .sparql import blueprint as sparql_blueprint
    app.register_blueprint(sparql_blueprint)
    from .graph_store import blueprint as graph_store_blueprint
    app.register_blueprint(graph_store_blueprint)
    from .linked_data import blueprint as linked_data_blueprint
    app.register_blueprint(linked_data_blueprint)
    from .catalog import blueprint as catalog_blueprint
    app.register_blueprint(catalog_blueprint)
    from .browse import blueprint as browse_blueprint
    app.register_blueprint(browse_blueprint)
    from . import access_log, limits
    limits.install(app)
    access_log.install(app)  # last: its query clock runs right around the views
    return app
