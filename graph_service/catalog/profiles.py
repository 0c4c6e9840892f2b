"""The two DCAT-AP views of the catalogue and how a client picks one (W3C "Content Negotiation by Profile").

DCAT-AP 3.0.1 is the default; DCAT-AP 2.1.1 is what data.europa.eu converts to. They differ where the official
shapes disagree: ``dcat:byteSize`` is ``xsd:nonNegativeInteger`` in 3.0.1 and ``xsd:decimal`` in 2.1.1; 2.1.1
requires the checksum algorithm ``spdx:checksumAlgorithm_sha1`` while 3.0.1's mdr-vocabularies shapes require an
algorithm IRI starting with ``https://spdx.org/rdf/terms`` (so 3.0.1 gets SHA-256 under that IRI, declared
``owl:sameAs`` the SPDX term).

A client picks a profile with ``?profile=`` (a token or the profile IRI) or with an ``Accept-Profile`` header
(``<IRI>`` or token, with q-values); the response says which it got in ``Content-Profile``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef
from rdflib.namespace import XSD

from ..namespaces import SPDX


@dataclass(frozen=True)
class Profile:
    token: str  # the ?profile= value
    iri: str  # the profile's identifier (the release of the specification)
    label: str
    byte_size_datatype: URIRef
    checksum_algorithm: URIRef
    checksum: str  # which digest of the file: "sha1" or "sha256"
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.token, self.iri, *self.aliases)


DCAT_AP_3 = Profile(
    token="dcat-ap-3", iri="https://semiceu.github.io/DCAT-AP/releases/3.0.1/", label="DCAT-AP 3.0.1",
    byte_size_datatype=XSD.nonNegativeInteger,
    checksum_algorithm=URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256"), checksum="sha256",
    aliases=("dcat-ap-3.0.1", "dcat-ap", "euro_dcat_ap_3", "https://semiceu.github.io/DCAT-AP/releases/3.0.1"),
)
DCAT_AP_2 = Profile(
    token="dcat-ap-2", iri="https://semiceu.github.io/DCAT-AP/releases/2.1.1/", label="DCAT-AP 2.1.1",
    byte_size_datatype=XSD.decimal, checksum_algorithm=SPDX.checksumAlgorithm_sha1, checksum="sha1",
    aliases=("dcat-ap-2.1.1", "euro_dcat_ap_2", "https://semiceu.github.io/DCAT-AP/releases/2.1.1"),
)
PROFILES: tuple[Profile, ...] = (DCAT_AP_3, DCAT_AP_2)
DEFAULT_PROFILE = DCAT_AP_3


def by_name(name: str) -> Profile | None:
    """The profile a token or IRI names (``dcat-ap-2``, ``<https://...2.1.1/>``), or ``None``."""
    wanted = name.strip().strip("<>").strip()
    return next((p for p in PROFILES if wanted in p.names), None)


def from_accept_profile(header: str | None) -> Profile | None:
    """The known profile an ``Accept-Profile`` header prefers (q-values honoured; ties keep header order)."""
    if not header:
        return None
    best: tuple[float, int, Profile] | None = None
    for position, item in enumerate(_split_items(header)):
        value, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        profile = by_name(value)
        if profile is None or quality <= 0:
            continue
        if best is None or quality > best[0]:
            best = (quality, position, profile)
    return best[2] if best else None


def _split_items(header: str) -> list[str]:
    """Comma-separated items, not splitting inside ``<...>`` (IRIs may contain commas)."""
    items, current, depth = [], [], 0
    for char in header:
        if char == "<":
            depth += 1
        elif char == ">":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]
