"""``graph-service``: a thin command line over the same functions the web faces use."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pyoxigraph

from .config import Settings
from .formats import Kind, by_name, formats_of
from .loading import LoadError, load, validate_paths
from .store import GraphStore, StoreError, open_store


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: GraphStore | None = None

    @property
    def store(self) -> GraphStore:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", "store_path", type=click.Path(path_type=Path), help="Store folder (AIWATCH_STORE_PATH).")
@click.option("--base-iri", help="Base of persistent IRIs (AIWATCH_BASE_IRI).")
@click.option("--backend", type=click.Choice(["oxigraph", "remote"]), help="Store backend (AIWATCH_BACKEND).")
@click.version_option(package_name="aiwatch-graph-service")
@click.pass_context
def main(ctx: click.Context, store_path: Path | None, base_iri: str | None, backend: str | None) -> None:
    """AI Watch knowledge graph service: load, validate, query and serve the graph."""
    ctx.obj = Context(Settings.from_env(store_path=store_path, base_iri=base_iri, backend=backend))


def _fail(summary: str, lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise click.ClickException(summary)


@main.command("load")
@click.option("--force", is_flag=True, help="Publish even if the sources are unchanged.")
@click.option("--discard-writes", is_flag=True,
              help="Drop what was written through the API: the data becomes exactly the files (the write log stays).")
@pass_context
def load_command(context: Context, force: bool, discard_writes: bool) -> None:
    """Parse ontology/ and data/, validate with shapes/, publish atomically (or change nothing).

    Graphs written only through the API are kept; a source file's graph changed through the API since the last
    load is a conflict (exit 1) unless --discard-writes.
    """
    try:
        result = load(context.settings, context.store, force=force, discard_writes=discard_writes,
                      progress=lambda m: click.echo(m, err=True))
    except LoadError as error:
        _fail(str(error), error.problems)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    for line in result.report.lines():
        click.echo(line, err=True)
    if result.changed:
        click.echo(f"published version {result.version.digest}: {result.triples:,} quads from "
                   f"{len(result.sources)} sources")
    _prepare_catalogue(context)


def _prepare_catalogue(context: Context) -> None:
    """Write the downloads and statistics of the published version now, so that no request waits for them."""
    from .catalog import prepare

    settings = context.settings
    try:
        prepare(settings, context.store, settings.prepared_origins,
                progress=lambda m: click.echo(m, err=True))
    except (OSError, StoreError) as error:  # the data is published: a server writes the files when first asked
        click.echo(f"warning: the downloads were not written now ({error}); the first catalogue request will", err=True)


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_context
def validate_command(context: Context, paths: tuple[Path, ...]) -> None:
    """Validate RDF files or folders (any RDF syntax) with the project's SHACL shapes."""
    try:
        report = validate_paths(paths, context.settings)
    except LoadError as error:
        _fail(str(error), error.problems)
    for line in report.lines():
        click.echo(line)
    if not report.conforms:
        raise click.ClickException(f"{len(report.violations)} violation(s)")
    click.echo(f"conforms ({len(report.findings)} warning(s))", err=True)


@main.command("import")
@click.argument("names", nargs=-1)
@click.option("--source-data", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Folder of the source spreadsheets (default ../shared/data).")
@pass_context
def import_command(context: Context, names: tuple[str, ...], source_data: Path | None) -> None:
    """Import the AI-case spreadsheets (aiwatch-2021, pstw; default all) into data/imported/*.ttl."""
    from .importers import IMPORTERS, run_import

    unknown = [n for n in names if n not in IMPORTERS]
    if unknown:
        raise click.BadParameter(f"unknown importer(s) {unknown}; known: {', '.join(IMPORTERS)}")
    settings = context.settings
    reports = run_import(
        list(names) or None,
        shared_data=source_data or settings.shared_data,
        out_dir=settings.project_root / "data" / "imported",
        concepts_dir=settings.project_root / "ontology" / "concepts",
        progress=sys.stderr.isatty(),
    )
    for report in reports:
        for line in report.summary_lines():
            click.echo(line)


def _table(variables: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    lines = [" | ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.Literal):
        return term.value
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    return str(term)


@main.command("query")
@click.argument("sparql")
@click.option("--format", "format_name", help="json|xml|csv|tsv for SELECT/ASK; ttl|nt|rdf|jsonld for graphs.")
@pass_context
def query_command(context: Context, sparql: str, format_name: str | None) -> None:
    """Run a SPARQL query over the union of all graphs; a readable table by default."""
    if sparql == "-":
        sparql = sys.stdin.read()
    try:
        result = context.store.query(sparql)
    except SyntaxError as error:
        raise click.ClickException(f"malformed query: {error.msg}") from error
    out = sys.stdout.buffer
    if isinstance(result, pyoxigraph.QueryTriples):
        fmt = by_name(format_name or "ttl", Kind.GRAPH)
        if fmt is None:
            raise click.BadParameter(f"graph results come as {', '.join(f.name for f in formats_of(Kind.GRAPH))}")
        result.serialize(out, format=fmt.rdf_format)
        return
    if format_name:
        fmt = by_name(format_name, Kind.RESULTS)
        if fmt is None:
            raise click.BadParameter(f"results come as {', '.join(f.name for f in formats_of(Kind.RESULTS))}")
        result.serialize(out, format=fmt.results_format)
        return
    if isinstance(result, pyoxigraph.QueryBoolean):
        click.echo("true" if result else "false")
        return
    variables = [v.value for v in result.variables]
    rows = [[_cell(solution[v]) for v in variables] for solution in result]
    click.echo(_table(variables, rows))
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


@main.command("dump")
@click.option("--format", "format_name", default="nq", show_default=True,
              help="nq|trig keep graph names; ttl|nt|rdf|jsonld give the union.")
@click.option("--graph", help="Dump only this named graph.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write (default stdout).")
@pass_context
def dump_command(context: Context, format_name: str, graph: str | None, output: Path | None) -> None:
    """Write the store (every graph, or one) in an RDF format: with nq/trig, a backup `restore` publishes again."""
    fmt = by_name(format_name)
    if fmt is None or fmt.rdf_format is None:
        raise click.BadParameter(f"unknown RDF format {format_name!r}")
    quads = context.store.quads(graph)
    if not fmt.rdf_format.supports_datasets:
        quads = (pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads)
    if output:
        pyoxigraph.serialize(quads, str(output), format=fmt.rdf_format)
    else:
        pyoxigraph.serialize(quads, sys.stdout.buffer, format=fmt.rdf_format)


@main.command("restore")
@click.argument("backup", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@pass_context
def restore_command(context: Context, backup: Path) -> None:
    """Publish a backup written by `dump --format nq|trig`: every graph as it was, validated, atomically."""
    from .loading.restore import restore

    try:
        result = restore(context.settings, context.store, backup, progress=lambda m: click.echo(m, err=True))
    except LoadError as error:
        _fail(str(error), error.problems)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored version {result.version.digest}: {result.quads:,} quads in {result.graphs} named graphs")
    _prepare_catalogue(context)


@main.command("serve")
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 5000).")
@click.option("--workers", type=int, help="Worker processes (default: sized for the machine).")
@click.option("--threads", type=int, help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Flask's development server with reloading, not for production.")
@pass_context
def serve_command(context: Context, host: str | None, port: int | None, workers: int | None,
                  threads: int | None, dev: bool) -> None:
    """Serve the SPARQL, Linked Data and catalogue faces (gunicorn by default)."""
    from .web import create_app
    from .web.server import run_production

    settings = context.settings.replace(host=host, port=port, workers=workers, threads=threads)
    if dev:
        create_app(settings).run(host=settings.host, port=settings.port, debug=True)
    else:
        run_production(settings)


@main.command("quality")
@click.option("--server", help="Assess the catalogue of this running server (its URLs are requested over HTTP).")
@click.option("--public-base", default="http://localhost/", show_default=True,
              help="Without --server: the origin the in-process app answers as.")
@click.option("--format", "format_name", type=click.Choice(["table", "ttl", "jsonld", "nt", "rdf"]),
              default="table", show_default=True, help="A table of points, or the DQV measurements.")
@pass_context
def quality_command(context: Context, server: str | None, public_base: str, format_name: str) -> None:
    """Metadata quality (data.europa.eu MQA) of every catalogued dataset; exits 1 unless all are Excellent."""
    from .catalog.assessment import run_quality

    run = run_quality(context.settings, context.store, server=server, public_base=public_base)
    if format_name == "table":
        click.echo(run.table())
    else:
        sys.stdout.buffer.write(run.dqv(by_name(format_name).rdflib_name))
    if not run.all_excellent:
        raise click.ClickException("not every dataset is rated Excellent (351 points or more)")


@main.command("bench")
@click.option("--sizes", default="100k,1M,10M", show_default=True,
              help="Data sizes in triples, comma-separated (100k, 1M, 2.5M, 10M...).")
@click.option("--quick", is_flag=True, help="A tiny size and short runs (seconds): checks that the benchmark works.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the markdown report here "
              "(docs/benchmarks.md); its hand-written part after the '<!-- notes -->' line is kept.")
@click.option("--duration", type=float, help="Seconds of load per workload (default 5; quick 0.5).")
@click.option("--warmup", type=float, help="Seconds of warm-up before each workload (default 2; quick 0.2).")
@click.option("--connections", type=int, help="Concurrent connections (default 8; quick 2).")
@click.option("--workers", type=int, help="Server worker processes (default: as `serve` sizes them).")
@click.option("--threads", type=int, help="Threads per worker (default 4).")
@click.option("--rdflib-endpoint", "rdflib", type=click.Choice(["auto", "off"]), default=None,
              help="Compare with rdflib-endpoint when installed (auto; off in --quick).")
@click.option("--virtuoso", type=click.Choice(["auto", "off"]), default=None,
              help="Compare with Virtuoso when installed (auto; off in --quick).")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the generated data.")
@click.option("--workdir", type=click.Path(path_type=Path), help="Where stores and logs go (default var/bench).")
@click.option("--reuse-stores", is_flag=True, help="Do not rebuild a store already built with the same data.")
@click.option("--python-client", is_flag=True, help="Use the Python load generator even when wrk is installed.")
def bench_command(sizes: str, quick: bool, output: Path | None, duration: float | None, warmup: float | None,
                  connections: int | None, workers: int | None, threads: int | None, rdflib: str | None,
                  virtuoso: str | None, seed: int, workdir: Path | None, reuse_stores: bool,
                  python_client: bool) -> None:
    """Benchmark the service against a bare Flask app, rdflib-endpoint and Virtuoso (docs/benchmarks.md)."""
    from .bench import BenchConfig, parse_size, run_bench
    from .bench.report import write_report

    try:
        size_list = [parse_size(s) for s in sizes.split(",") if s.strip()] if not quick else [10_000]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--sizes") from error
    config = BenchConfig(
        sizes=size_list, seed=seed,
        connections=connections or (2 if quick else 8),
        duration_s=duration or (0.5 if quick else 5.0),
        warmup_s=warmup if warmup is not None else (0.2 if quick else 2.0),
        workers=workers or (2 if quick else 0), threads=threads or (2 if quick else 4),
        rdflib=rdflib or ("off" if quick else "auto"), virtuoso=virtuoso or ("off" if quick else "auto"),
        reuse_stores=reuse_stores, prefer_wrk=not (quick or python_client),
    )
    if workdir:
        config.workdir = workdir
    result = run_bench(config, progress=lambda message: click.echo(message, err=True))
    text = write_report(result, output)
    if output is None:
        click.echo(text)
    else:
        click.echo(f"report written to {output}", err=True)


@main.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Print a new write token line `NAME:TOKEN` for AIWATCH_WRITE_TOKENS or the write tokens file."""
    from .writes import Tokens, new_token

    line = f"{name}:{new_token()}"
    try:
        Tokens.parse([line])
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="NAME") from error
    click.echo(line)


if __name__ == "__main__":
    main()
