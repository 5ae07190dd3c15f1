"""OFAC SDN Advanced XML (``SDN_ADVANCED.XML`` / ``CONS_ADVANCED.XML``).

Two namespaces are in circulation with the same schema: the legacy ``http://www.un.org/sanctions/1.0`` and
the Sanctions List Service export namespace; both are accepted, anything else is refused. Feature types
are resolved through ``ReferenceValueSets`` (never hard-coded ids): a feature whose type is named
``Digital Currency Address - <coin>`` and whose value is an EVM address becomes a listed address; an
``- ETH`` feature whose value is not an EVM address is refused with its line.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from fictra.compliance.formats.common import ListEntry, ListRefused, evm_address
from fictra.compliance.formats.xmlsafe import parse_xml

__all__ = ["NAMESPACES", "parse_ofac_xml"]

NAMESPACES = (
    "http://www.un.org/sanctions/1.0",
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML",
)
DIGITAL_CURRENCY = "Digital Currency Address - "
KINDS = {"individual": "individual", "entity": "entity", "vessel": "vessel", "aircraft": "aircraft"}


def _values(root: etree._Element, ns: str, group: str, item: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in root.iterfind(f"{{{ns}}}ReferenceValueSets/{{{ns}}}{group}/{{{ns}}}{item}"):
        out[str(el.get("ID"))] = (el.text or "").strip()
    return out


def _name(alias: etree._Element, ns: str) -> str:
    for doc in alias.iterfind(f"{{{ns}}}DocumentedName"):
        parts = [
            (v.text or "").strip()
            for v in doc.iterfind(f"{{{ns}}}DocumentedNamePart/{{{ns}}}NamePartValue")
            if (v.text or "").strip()
        ]
        if parts:
            return " ".join(parts)
    return ""


def parse_ofac_xml(data: bytes, path: str) -> list[ListEntry]:
    root = parse_xml(data, path)
    tag = etree.QName(root)
    if tag.namespace not in NAMESPACES or tag.localname != "Sanctions":
        raise ListRefused(
            path,
            root.sourceline,
            f"root element is '{{{tag.namespace}}}{tag.localname}', not an OFAC Advanced XML 'Sanctions' "
            f"(namespace must be one of: {', '.join(NAMESPACES)})",
        )
    ns = str(tag.namespace)
    if root.find(f"{{{ns}}}ReferenceValueSets") is None:
        raise ListRefused(path, root.sourceline, "no ReferenceValueSets (feature types cannot be resolved)")
    features = _values(root, ns, "FeatureTypeValues", "FeatureType")
    subtypes = _values(root, ns, "PartySubTypeValues", "PartySubType")
    programs: dict[str, list[str]] = {}
    for entry in root.iterfind(f"{{{ns}}}SanctionsEntries/{{{ns}}}SanctionsEntry"):
        comments = [
            (c.text or "").strip()
            for c in entry.iterfind(f"{{{ns}}}SanctionsMeasure/{{{ns}}}Comment")
            if (c.text or "").strip()
        ]
        programs.setdefault(str(entry.get("ProfileID")), []).extend(comments)
    out: list[ListEntry] = []
    seen: set[str] = set()
    for party in root.iterfind(f"{{{ns}}}DistinctParties/{{{ns}}}DistinctParty"):
        key = party.get("FixedRef")
        if not key:
            raise ListRefused(path, party.sourceline, "DistinctParty without FixedRef")
        if key in seen:
            raise ListRefused(path, party.sourceline, f"DistinctParty FixedRef '{key}' appears twice")
        seen.add(key)
        for profile in party.iterfind(f"{{{ns}}}Profile"):
            out.append(_profile(profile, ns, key, path, features, subtypes, programs))
    return out


def _profile(
    profile: etree._Element,
    ns: str,
    key: str,
    path: str,
    features: dict[str, str],
    subtypes: dict[str, str],
    programs: dict[str, list[str]],
) -> ListEntry:
    name, aliases = "", []
    for alias in profile.iterfind(f"{{{ns}}}Identity/{{{ns}}}Alias"):
        text = _name(alias, ns)
        if not text:
            continue
        if alias.get("Primary") == "true" and not name:
            name = text
        else:
            aliases.append(text)
    if not name and aliases:
        name = aliases.pop(0)
    if not name:
        raise ListRefused(path, profile.sourceline, f"profile of party '{key}' has no name")
    addresses: list[str] = []
    for feature in profile.iterfind(f"{{{ns}}}Feature"):
        type_id = str(feature.get("FeatureTypeID"))
        if type_id not in features:
            raise ListRefused(
                path, feature.sourceline, f"FeatureTypeID '{type_id}' is not in ReferenceValueSets"
            )
        type_name = features[type_id]
        if not type_name.startswith(DIGITAL_CURRENCY):
            continue
        for detail in feature.iterfind(f"{{{ns}}}FeatureVersion/{{{ns}}}VersionDetail"):
            value = (detail.text or "").strip()
            address = evm_address(value)
            if address is not None:
                addresses.append(address)
            elif type_name.endswith("- ETH"):
                raise ListRefused(
                    path, detail.sourceline, f"'{type_name}' value '{value[:80]}' is not an Ethereum address"
                )
    kind = KINDS.get(subtypes.get(str(profile.get("PartySubTypeID")), "").lower(), "entity")
    return ListEntry(
        key=key,
        name=name,
        kind=kind,
        aliases=tuple(dict.fromkeys(aliases)),
        addresses=tuple(dict.fromkeys(addresses)),
        programs=tuple(dict.fromkeys(programs.get(str(profile.get("ID")), []))),
        line=profile.sourceline,
    )
