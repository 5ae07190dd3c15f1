"""OpenSanctions FollowTheMoney entities as JSON lines (``entities.ftm.json``): one entity per line with
``id``, ``schema`` and ``properties`` (lists of strings). Parties (Person, Organization, Company,
LegalEntity, PublicBody, Vessel, Airplane) become entries; a ``CryptoWallet``'s ``publicKey`` (when an EVM
address) is listed under its ``holder``, or as an entry of its own when the holder is not in the file.
Other schemata (addresses, sanctions, identifications...) are read and skipped.
"""

from __future__ import annotations

import json
from typing import Any

from fictra.compliance.formats.common import ListEntry, ListRefused, evm_address

__all__ = ["PARTIES", "parse_ftm"]

PARTIES = {
    "Person": "individual",
    "Organization": "entity",
    "Company": "entity",
    "LegalEntity": "entity",
    "PublicBody": "entity",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
_ALIASES = ("alias", "weakAlias", "previousName")


def _strings(props: dict[str, Any], name: str, path: str, line: int) -> list[str]:
    value = props.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ListRefused(path, line, f"properties.{name} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def parse_ftm(data: bytes, path: str) -> list[ListEntry]:
    parties: dict[str, ListEntry] = {}
    wallets: list[tuple[int, str, list[str], list[str], str]] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ListRefused(path, data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ListRefused(path, line, f"not a JSON object ({exc.msg}); is the file truncated?") from None
        if not isinstance(doc, dict):
            raise ListRefused(path, line, "not a JSON object")
        ent_id, schema, props = doc.get("id"), doc.get("schema"), doc.get("properties", {})
        if not isinstance(ent_id, str) or not ent_id or not isinstance(schema, str) or not schema:
            raise ListRefused(path, line, "an entity needs 'id' and 'schema' (FollowTheMoney JSON)")
        if not isinstance(props, dict):
            raise ListRefused(path, line, "'properties' must be an object")
        if schema == "CryptoWallet":
            keys = _strings(props, "publicKey", path, line)
            holders = _strings(props, "holder", path, line)
            label = (_strings(props, "name", path, line) or keys or [ent_id])[0]
            wallets.append((line, ent_id, keys, holders, label))
        elif schema in PARTIES:
            names = _strings(props, "name", path, line)
            if not names:
                raise ListRefused(path, line, f"{schema} '{ent_id}' has no name")
            aliases = [a for p in _ALIASES for a in _strings(props, p, path, line)]
            parties[ent_id] = ListEntry(
                key=ent_id,
                name=names[0],
                kind=PARTIES[schema],
                aliases=tuple(dict.fromkeys([*names[1:], *aliases])),
                programs=tuple(dict.fromkeys(_strings(props, "programId", path, line))),
                line=line,
            )
    out = dict(parties)
    for line, wallet_id, keys, holders, label in wallets:
        addresses = tuple(a for a in (evm_address(k) for k in keys) if a is not None)
        if not addresses:
            continue  # a Bitcoin or Tron wallet: not screenable on this chain
        held = [h for h in holders if h in out]
        if not held:
            out[wallet_id] = ListEntry(
                key=wallet_id, name=label, kind="wallet", addresses=addresses, line=line
            )
        for holder in held:
            entry = out[holder]
            merged = tuple(dict.fromkeys([*entry.addresses, *addresses]))
            out[holder] = ListEntry(
                key=entry.key,
                name=entry.name,
                kind=entry.kind,
                aliases=entry.aliases,
                addresses=merged,
                programs=entry.programs,
                line=entry.line,
            )
    if not out:
        raise ListRefused(path, None, "no parties or EVM wallets")
    return list(out.values())
