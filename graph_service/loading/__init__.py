"""Loading and validation: parse -> SHACL -> publish atomically."""

from .loader import LoadError, LoadResult, load, validate_paths
from .sources import Source, SourceError, parse_file
from .validation import Finding, ValidationReport, validate_graph

__all__ = [
    "Finding", "LoadError", "LoadResult", "Source", "SourceError", "ValidationReport", "load", "parse_file",
    "validate_graph", "validate_paths",
]
