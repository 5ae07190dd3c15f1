"""Parsers of the official list formats into :class:`~fictra.compliance.formats.common.ListEntry` values.

Each parser reads one offline file and returns every entry or raises
:class:`~fictra.compliance.formats.common.ListRefused` naming the file and line; none writes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fictra.compliance.formats.common import ListEntry, ListRefused
from fictra.compliance.formats.eu_un import parse_eu_xml, parse_un_xml
from fictra.compliance.formats.ftm import parse_ftm
from fictra.compliance.formats.ofac_csv import parse_ofac_csv
from fictra.compliance.formats.ofac_xml import parse_ofac_xml
from fictra.compliance.formats.threat import parse_threat

__all__ = ["FORMATS", "ListEntry", "ListRefused", "parse"]

FORMATS: dict[str, Callable[[bytes, str], list[ListEntry]]] = {
    "ofac_sdn_xml": parse_ofac_xml,
    "ofac_csv": parse_ofac_csv,
    "opensanctions_ftm": parse_ftm,
    "threat": parse_threat,
    "eu_xml": parse_eu_xml,
    "un_xml": parse_un_xml,
}


def parse(fmt: str, data: bytes, *, path: Path | str) -> list[ListEntry]:
    """Parse ``data`` (the bytes of ``path``) in format ``fmt``."""
    parser = FORMATS.get(fmt)
    if parser is None:
        raise ListRefused(str(path), None, f"unknown format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    return parser(data, str(path))
