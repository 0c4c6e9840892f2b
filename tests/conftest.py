"""Shared fixtures: the real project data loaded once into a real store, the app, and a served app.

Nothing here is mocked: ``kg`` and ``app`` read a store built by the same loader users run, and ``live_server`` is
``graph-service serve`` (gunicorn) listening on 127.0.0.1. The store is the embedded Oxigraph store on disk, or,
with ``--backend remote`` (or ``AIWATCH_TEST_BACKEND=remote``), the remote backend over a Virtuoso on 127.0.0.1
(``store_contract``): the face suites run unchanged on either.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from graph_service.config import PROJECT_ROOT, Settings
from graph_service.loading import load
from graph_service.store import GraphStore, OxigraphStore

pytest_plugins = ["store_contract"]  # --backend oxigraph|remote, and the Virtuoso fixtures


@dataclass
class KG:
    """SPARQL over the loaded store with plain string values, for readable assertions."""

    store: GraphStore

    def select(self, query: str) -> list[dict[str, str]]:
        return [{name: term.value for name, term in row.items()} for row in self.store.select(query)]

    def ask(self, query: str) -> bool:
        return self.store.ask(query)


def on_remote_backend(config: pytest.Config) -> bool:
    return config.getoption("--backend") == "remote"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    """The settings of the chosen backend (``store_path`` is a fresh folder either way: downloads are cached there)."""
    from store_contract import backend_settings  # imported once pytest loaded it as a plugin (assert rewriting)

    # The suite serves its one store at many origins (a port per server started): none is refused its downloads.
    embedded = Settings.from_env(environ={}, store_path=tmp_path_factory.mktemp("store"), project_root=PROJECT_ROOT,
                                 max_download_origins=1_000)
    return backend_settings(embedded, request)


@pytest.fixture(scope="session")
def store(settings: Settings, request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """The real project (ontology/ + data/) loaded and SHACL-validated into an on-disk Oxigraph store, or with
    ``--backend remote`` into Virtuoso by the same loader."""
    if on_remote_backend(request.config):
        yield request.getfixturevalue("remote_store")
        return
    graph_store = OxigraphStore(settings.store_path)
    load(settings, graph_store)
    yield graph_store
    graph_store.close()


@pytest.fixture(scope="session")
def kg(store: GraphStore) -> KG:
    return KG(store)


@pytest.fixture(scope="session")
def app(settings: Settings, store: GraphStore):
    from graph_service.web import create_app

    application = create_app(settings, store)
    application.config["TESTING"] = True
    return application


@pytest.fixture()
def client(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str  # e.g. http://127.0.0.1:54321 (no trailing slash)
    process: subprocess.Popen


def start_server(settings: Settings, *extra_args: str, env: dict[str, str] | None = None) -> LiveServer:
    """``graph-service serve`` on a free loopback port over the store of ``settings``, waiting until it answers
    /health."""
    from store_contract import settings_environment

    port = free_port()
    environment = {**os.environ, **settings_environment(settings), **(env or {})}
    # The server's log goes to a file: an unread pipe would fill up with access-log lines and block the server.
    log = tempfile.NamedTemporaryFile(prefix=f"serve-{port}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "graph_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", *extra_args],
        env=environment, stdout=subprocess.DEVNULL, stderr=log,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {Path(log.name).read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=1).ok:
                return LiveServer(url, process)
        except requests.RequestException:  # refused, or a worker still booting (timeout)
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(settings: Settings, store: GraphStore) -> Iterator[LiveServer]:
    """The real production server (gunicorn) over the loaded store, on 127.0.0.1."""
    server = start_server(settings)
    yield server
    stop_server(server)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_WAIT_S = 30  # upper bound for a page or a query to come back in the browser; never asserted on


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's headless Chromium driven by Selenium, offline: it may resolve no host but 127.0.0.1."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("the browser tests need Debian's chromium and chromium-driver: run scripts/system-deps.sh")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--window-size=1400,1000",
        "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(BROWSER_WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    # Tests talk only to loopback: make sure no proxy setting sends 127.0.0.1 traffic elsewhere.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


PROJECT = Path(PROJECT_ROOT)
