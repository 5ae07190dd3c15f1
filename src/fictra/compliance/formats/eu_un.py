"""The EU consolidated financial sanctions list (FSD XML export, namespace
``http://eu.europa.eu/fpi/fsd/export``) and the UN Security Council consolidated list (``CONSOLIDATED_LIST``,
no namespace). Both list parties by name (no digital currency addresses): they feed name screening.

EU: each ``sanctionEntity`` (key ``logicalId``), its ``nameAlias`` ``wholeName`` values (the first is the
name, the rest aliases), ``subjectType/@code`` person → individual, programmes from ``regulation/@programme``.
UN: each ``INDIVIDUAL`` and ``ENTITY`` (key ``DATAID``), the name from ``FIRST_NAME`` … ``FOURTH_NAME``,
aliases from ``*_ALIAS/ALIAS_NAME``, the programme from ``UN_LIST_TYPE``.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from fictra.compliance.formats.common import ListEntry, ListRefused
from fictra.compliance.formats.xmlsafe import parse_xml

__all__ = ["EU_NAMESPACE", "parse_eu_xml", "parse_un_xml"]

EU_NAMESPACE = "http://eu.europa.eu/fpi/fsd/export"
_UN_NAMES = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def parse_eu_xml(data: bytes, path: str) -> list[ListEntry]:
    root = parse_xml(data, path)
    tag = etree.QName(root)
    if tag.namespace != EU_NAMESPACE or tag.localname != "export":
        raise ListRefused(
            path,
            root.sourceline,
            f"root element is '{root.tag}', not the EU FSD 'export' (namespace {EU_NAMESPACE})",
        )
    ns = f"{{{EU_NAMESPACE}}}"
    out: list[ListEntry] = []
    for entity in root.iterfind(f"{ns}sanctionEntity"):
        key = entity.get("logicalId")
        if not key:
            raise ListRefused(path, entity.sourceline, "sanctionEntity without logicalId")
        names = [a.get("wholeName", "").strip() for a in entity.iterfind(f"{ns}nameAlias")]
        names = [n for n in dict.fromkeys(names) if n]
        if not names:
            raise ListRefused(path, entity.sourceline, f"sanctionEntity {key} has no nameAlias wholeName")
        subject = entity.find(f"{ns}subjectType")
        code = subject.get("code", "") if subject is not None else ""
        programmes = [
            r.get("programme", "") for r in entity.iterfind(f"{ns}regulation") if r.get("programme")
        ]
        out.append(
            ListEntry(
                key=key,
                name=names[0],
                kind="individual" if code == "person" else "entity",
                aliases=tuple(names[1:]),
                programs=tuple(dict.fromkeys(programmes)),
                line=entity.sourceline,
            )
        )
    if not out:
        raise ListRefused(path, None, "no sanctionEntity")
    return out


def _text(el: etree._Element, child: str) -> str:
    found = el.find(child)
    return (found.text or "").strip() if found is not None else ""


def parse_un_xml(data: bytes, path: str) -> list[ListEntry]:
    root = parse_xml(data, path)
    if etree.QName(root).localname != "CONSOLIDATED_LIST" or etree.QName(root).namespace:
        raise ListRefused(
            path, root.sourceline, f"root element is '{root.tag}', not the UN 'CONSOLIDATED_LIST'"
        )
    out: list[ListEntry] = []
    for group, kind in (("INDIVIDUALS/INDIVIDUAL", "individual"), ("ENTITIES/ENTITY", "entity")):
        for party in root.iterfind(group):
            key = _text(party, "DATAID")
            if not key:
                raise ListRefused(path, party.sourceline, f"{party.tag} without DATAID")
            name = " ".join(p for p in (_text(party, n) for n in _UN_NAMES) if p)
            if not name:
                raise ListRefused(path, party.sourceline, f"{party.tag} {key} has no name")
            aliases = [(a.text or "").strip() for a in party.iterfind(f"{party.tag}_ALIAS/ALIAS_NAME")]
            out.append(
                ListEntry(
                    key=key,
                    name=name,
                    kind=kind,
                    aliases=tuple(a for a in dict.fromkeys(aliases) if a),
                    programs=tuple(p for p in (_text(party, "UN_LIST_TYPE"),) if p),
                    line=party.sourceline,
                )
            )
    if not out:
        raise ListRefused(path, None, "no INDIVIDUAL or ENTITY")
    return out
