"""Finding and safely parsing source files: every RDF file under the source folders is one named graph."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyoxigraph

from ..formats import guess_rdf_format
from ..namespaces import graph_iri
from .untrusted import check_file


class SourceError(Exception):
    """A source file cannot be read or parsed; the message names the file, the position and the parser's reason."""


@dataclass(frozen=True)
class Source:
    path: Path
    relative_path: PurePosixPath
    graph: str
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rdf_files(paths: Iterable[Path]) -> Iterator[Path]:
    """RDF files given directly or found below folders, in a stable order; non-RDF files are passed over."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and guess_rdf_format(p.name))
        elif path.is_file() or not path.exists():
            yield path  # a missing or non-RDF file given by name is an error the parser reports


def discover(source_dirs: Iterable[Path], project_root: Path, base_iri: str) -> list[Source]:
    """The sources of the project: one per RDF file under ``source_dirs``, graph named after its path."""
    sources = []
    for path in rdf_files(source_dirs):
        relative = PurePosixPath(path.resolve().relative_to(project_root.resolve()).as_posix())
        sources.append(Source(path, relative, graph_iri(base_iri, relative), sha256_of(path)))
    return sources


def parse_file(path: Path, graph: str | None, base_iri: str) -> list[pyoxigraph.Quad]:
    """Parse one file with Oxigraph's parsers into quads of ``graph`` (named graphs of TriG/N-Quads are kept).

    Oxigraph's parsers never dereference anything: no remote JSON-LD contexts, no XML external entities, no
    other local files, which is what untrusted curator files need; what they would still choke on (XML entity
    expansion, deep nesting) is refused first (:mod:`.untrusted`).
    """
    rdf_format = guess_rdf_format(path.name)
    if rdf_format is None:
        raise SourceError(f"{path}: not an RDF file name (known extensions: .ttl .nt .nq .trig .rdf .jsonld .n3)")
    target = pyoxigraph.NamedNode(graph) if graph else pyoxigraph.DefaultGraph()
    try:
        check_file(path, rdf_format)  # entity expansion, deep nesting: see .untrusted
        with path.open("rb") as stream:
            quads = []
            for quad in pyoxigraph.parse(stream, format=rdf_format, base_iri=base_iri):
                in_default = isinstance(quad.graph_name, pyoxigraph.DefaultGraph)
                quads.append(
                    pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, target) if in_default else quad
                )
            return quads
    except SyntaxError as error:
        raise SourceError(f"{path}: {error.msg}") from error  # Oxigraph's message carries line and column
    except (OSError, ValueError) as error:
        raise SourceError(f"{path}: {error}") from error

