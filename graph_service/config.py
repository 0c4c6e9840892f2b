"""All configuration in one place.

Values come from defaults, then environment variables (``AIWATCH_<NAME>``), then explicit overrides (CLI options,
test fixtures). Faces and commands receive one :class:`Settings` object and never read the environment themselves.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def origin_url(url: str) -> str:
    """``url`` as an origin (or base) the service's IRIs start with: ending in ``/``."""
    return url if url.endswith("/") else url + "/"


def _default_shared_data() -> Path:
    return PROJECT_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Settings:
    """Service configuration; see README "Configuration" for each value."""

    #: The one base under which every persistent IRI is minted (DESIGN.md "Identifiers").
    base_iri: str = "https://w3id.org/aiwatch/"
    #: Folder holding ``ontology/``, ``data/`` and ``shapes/``.
    project_root: Path = PROJECT_ROOT
    #: Where the embedded store keeps its versions (``<store_path>/current`` is the published one).
    store_path: Path = PROJECT_ROOT / "var" / "store"
    #: The read-only source spreadsheets the importers read (``../shared/data``).
    shared_data: Path = field(default_factory=_default_shared_data)
    #: ``oxigraph`` (embedded, default) or ``remote`` (any SPARQL 1.1 engine).
    backend: str = "oxigraph"
    #: Remote backend endpoints and credentials (issue 8).
    remote_query_url: str = ""
    remote_update_url: str = ""
    remote_user: str = ""
    remote_password: str = ""
    #: SPARQL 1.1 Graph Store Protocol URL for uploads (Virtuoso: ``.../sparql-graph-crud-auth``); empty: SPARQL Update.
    remote_graph_store_url: str = ""
    #: Folder shared with the engine host and allowed there (Virtuoso ``DirsAllowed``): enables its bulk loader.
    remote_bulk_dir: str = ""
    #: Name of this service's data set in the engine (its version record); several may share one engine.
    remote_dataset: str = "aiwatch"
    #: Seconds a process reuses the list of published graphs before asking the engine again (0: every query).
    remote_refresh_s: float = 1.0
    #: HTTP serving.
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 0  # 0: sized for the machine
    threads: int = 4
    #: SPARQL limits.
    query_timeout_s: float = 30.0
    max_result_rows: int = 100_000
    #: Answers that took at least this many seconds are also kept on disk per data version, for every server
    #: process (graph_service.sparql.shared_answers); cheaper ones only in each process's memory. Negative: off.
    shared_answer_min_s: float = 0.05
    max_request_bytes: int = 1_048_576
    #: Most structural operators (brackets, ``.`` ``;``, ``&&`` ``||`` ``!``, path operators, UNION, OPTIONAL...) a
    #: SPARQL query or update may hold: Oxigraph's parser recurses over them (graph_service.web.limits).
    max_query_operators: int = 800
    #: Per-client limits (graph_service.web.limits, shared by all worker processes); 0 turns one off.
    #: Requests per second a client may sustain, and how many it may send at once above that rate.
    client_rate_per_s: float = 50.0
    client_burst: int = 200
    #: Requests of one client being answered at the same time.
    client_max_concurrent: int = 6  # below serve's workers x threads on 2 cores (8); browsers open 6 at once
    #: Addresses or networks of the reverse proxies whose ``X-Forwarded-For`` names the client; empty: the peer is.
    trusted_proxies: tuple[str, ...] = ()
    #: One JSON line per request (graph_service.web.access_log) from ``serve``: ``-`` stdout, a file path, empty off.
    access_log: str = "-"
    #: SPARQL federation: IRI prefixes of the only endpoints SERVICE may call; empty (default) turns SERVICE off.
    sparql_service_allowlist: tuple[str, ...] = ()
    #: Writes (SPARQL Update, Graph Store Protocol): bearer tokens as ``name:token`` pairs; none (default): read-only.
    write_tokens: tuple[str, ...] = ()
    #: A file of ``name:token`` lines (``#`` comments) adding to ``write_tokens``; keeps tokens out of the environment.
    write_tokens_file: str = ""
    #: Largest request body an authenticated write may send (Graph Store uploads, ``/update``), in bytes.
    max_write_bytes: int = 67_108_864
    #: Seconds an update may run (its WHERE can cost as much as a query) before it is cancelled, changing nothing.
    update_timeout_s: float = 120.0
    #: Origins (``https://data.example.org/``) besides the persistent base whose downloads ``load`` and ``restore``
    #: write right after publishing (IRIs in downloads name the origin serving them); any other origin's downloads
    #: are written in the background by the first server process that serves its catalogue.
    download_origins: tuple[str, ...] = ()
    #: Serving origins (scheme, host and port) besides the base and ``download_origins`` whose downloads are written
    #: per data version (~0.5 GB each at a million triples); a further origin's catalogue states no byte sizes or
    #: checksums and its ``/download`` answers 421.
    max_download_origins: int = 4
    #: Seconds each query the service sends to write downloads may run on a remote engine (the clients' queries have
    #: ``query_timeout_s``): at 10M triples a CSV column takes ~50 s from Virtuoso. The embedded store limits none.
    download_query_timeout_s: float = 1800.0
    #: Host names requests may name in ``Host`` (a leading dot admits subdomains, ``*`` any host); others get a 400.
    #: Empty (default): ``localhost``, ``127.0.0.1`` and the hosts of the base IRI, of ``download_origins`` and of
    #: ``host``. Each origin served has IRIs of its own, so its own answers, pages and downloads on disk.
    trusted_hosts: tuple[str, ...] = ()
    #: Catalogue: datasets per page of /catalog (at most 100, as ckanext-dcat).
    catalog_page_size: int = 100
    #: Catalogue: the official DCAT-AP shapes used for the MQA "DCAT-AP compliance" indicator (its 2.1.1/ folder);
    #: when absent, the project's shapes/catalog.ttl is used.
    dcat_ap_shapes_dir: Path = field(
        default_factory=lambda: _default_shared_data().parent / "standards" / "dcat-ap-shapes")
    #: Number of old store versions kept on disk after a publish (readers may still hold them open).
    keep_versions: int = 2

    def __post_init__(self) -> None:
        # A relative folder means the working directory's, once: Flask's send_file would resolve it against the
        # package folder instead, and every download would be missing.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path) and not value.is_absolute():
                object.__setattr__(self, f.name, value.absolute())

    @property
    def source_dirs(self) -> tuple[Path, ...]:
        """Folders whose RDF files are loaded, each file one named graph."""
        return (self.project_root / "ontology", self.project_root / "data")

    @property
    def shapes_dir(self) -> Path:
        return self.project_root / "shapes"

    @property
    def answered_hosts(self) -> list[str] | None:
        """The host names a request's ``Host`` may name (Flask's ``TRUSTED_HOSTS``); ``None``: any."""
        if "*" in self.trusted_hosts:
            return None
        if self.trusted_hosts:
            return list(self.trusted_hosts)
        names = ["localhost", "127.0.0.1"]
        names += [host for url in (self.base_iri, *self.download_origins) if (host := urlsplit(url).hostname)]
        if self.host not in ("", "0.0.0.0", "::"):  # a wildcard address names no host
            names.append(self.host)
        return list(dict.fromkeys(names))

    @property
    def prepared_origins(self) -> tuple[str, ...]:
        """The origins whose downloads ``load`` writes (each ending in ``/``): the base, then ``download_origins``."""
        return tuple(dict.fromkeys(origin_url(o) for o in (self.base_iri, *self.download_origins)))

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values are ignored so CLI options can pass through."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, overridden by ``AIWATCH_*`` environment variables, overridden by ``overrides``."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f"AIWATCH_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls(), f.name)
            if isinstance(default, Path):
                values[f.name] = Path(raw)
            elif isinstance(default, bool):
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            elif isinstance(default, tuple):
                values[f.name] = tuple(item for item in raw.replace(",", " ").split() if item)
            else:
                values[f.name] = raw
        base_iri = overrides.get("base_iri") or values.get("base_iri")
        if base_iri and not base_iri.endswith("/"):
            raise ValueError(f"base IRI must end with '/': {base_iri!r}")
        return cls().replace(**values).replace(**overrides)
