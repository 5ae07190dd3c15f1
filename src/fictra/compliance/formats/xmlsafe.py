"""lxml with a parser hardened for hostile files: no entity expansion, no DTD, no network, no huge trees."""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from fictra.compliance.formats.common import ListRefused

__all__ = ["parse_xml"]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, path: str) -> etree._Element:
    """The root element of ``data``; a syntax error (a truncated file...) is refused with its line."""
    if b"<!ENTITY" in data[:65536]:
        raise ListRefused(path, None, "the XML declares entities (refused: lists never need them)")
    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc).split(", line ")[0]
        raise ListRefused(path, line, f"not well-formed XML ({message}); is the file truncated?") from None
