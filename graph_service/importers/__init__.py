"""Repeatable importers of the AI-case spreadsheets into Turtle (``data/imported/*.ttl``).

Public API (used by the CLI ``graph-service import``)::

    reports = run_import(["pstw"], shared_data=Path("../shared/data"), out_dir=Path("data/imported"),
                         concepts_dir=Path("ontology/concepts"))
    for report in reports:
        print("\\n".join(report.summary_lines()))

Why it works this way:

* Coded cells are mapped through the SKOS labels of ``ontology/concepts/*.ttl`` (normalised: trimmed, spaces
  collapsed, case-folded, trailing full stop removed). A spelling the schemes do not know is never guessed: it is
  left out of the graph and listed in :attr:`ImportReport.unmapped`, and the fix is a new altLabel/hiddenLabel.
* Country names are resolved with the EU country authority table (``../shared/standards/eu-authority-tables``)
  plus ``country_aliases.csv``; ``member_states.csv`` says which of them get ``aiw:memberState``.
* The output is deterministic (sorted triples, fixed prefixes, no timestamps): re-running on the same source gives
  the same bytes, so the files can be committed and diffed. The header comment names the source file, its sha256
  and licence; each case links to its dataset with ``aiw:sourceDataset`` (the dataset itself is described in
  ``data/curated/datasets.ttl``).
* Files are written atomically (temporary file + rename), so a failed import never leaves half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

from .aiwatch2021 import AIWatch2021Importer
from .common import ImportReport
from .concepts import ConceptIndex, normalise
from .countries import CountryTable
from .pstw import PSTWImporter

__all__ = ["IMPORTERS", "ConceptIndex", "CountryTable", "ImportReport", "Importer", "normalise", "run_import"]

log = logging.getLogger(__name__)


class Importer(Protocol):
    """One source spreadsheet → one Turtle file."""

    name: str
    output_name: str

    def source(self, shared_data: Path) -> Path:
        """The source file read from the shared data folder."""
        ...

    def run(self, *, shared_data: Path, out_dir: Path, concepts: ConceptIndex, countries: CountryTable,
            progress: bool = True) -> tuple[ImportReport, str]:
        """The report and the Turtle text (not yet written)."""
        ...


IMPORTERS: dict[str, Importer] = {
    "aiwatch-2021": AIWatch2021Importer(),
    "pstw": PSTWImporter(),
}


def authority_table(shared_data: Path) -> Path:
    """The EU country authority table that sits next to the shared data (``../standards/eu-authority-tables``)."""
    return shared_data.parent / "standards" / "eu-authority-tables" / "countries-skos.rdf"


def run_import(names: list[str] | None, *, shared_data: Path, out_dir: Path, concepts_dir: Path,
               progress: bool = True, countries_rdf: Path | None = None) -> list[ImportReport]:
    """Run the named importers (all when ``names`` is None or empty) and write their files into ``out_dir``.

    Unknown names raise ``KeyError`` before anything is written. Unmapped values are logged as warnings and
    returned in each report; they do not stop the import (the CLI decides whether they are fatal).
    """
    selected = list(names) if names else list(IMPORTERS)
    unknown = [n for n in selected if n not in IMPORTERS]
    if unknown:
        raise KeyError(f"unknown importer(s) {unknown}; known: {sorted(IMPORTERS)}")
    concepts = ConceptIndex.load(Path(concepts_dir))
    countries = CountryTable.load(Path(countries_rdf) if countries_rdf else authority_table(Path(shared_data)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for name in selected:
        report, text = IMPORTERS[name].run(shared_data=Path(shared_data), out_dir=out_dir, concepts=concepts,
                                           countries=countries, progress=progress)
        _write_atomically(report.output, text)
        for (column, raw), count in report.unmapped.items():
            log.warning("%s: unmapped %s value %r (%d rows)", name, column, raw, count)
        reports.append(report)
    return reports


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file is published data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
