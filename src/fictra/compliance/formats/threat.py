"""A threat-intelligence list of malicious addresses: CSV with a header (``address`` required; ``category``,
``label``, ``source`` optional) or JSON (an array of objects with ``address``, or ``{"addresses": [...]}``).
Each address is an entry keyed by the address itself."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fictra.compliance.formats.common import ListEntry, ListRefused, evm_address

__all__ = ["parse_threat"]


def _entry(address: str, item: dict[str, Any], line: int | None) -> ListEntry:
    label = str(item.get("label") or item.get("category") or "malicious address")
    extra = {k: str(item[k]) for k in ("category", "source") if item.get(k)}
    return ListEntry(key=address, name=label, kind="address", addresses=(address,), line=line, extra=extra)


def _from_json(text: str, path: str) -> list[ListEntry]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListRefused(path, exc.lineno, f"not valid JSON ({exc.msg}); is the file truncated?") from None
    items = doc.get("addresses") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ListRefused(path, 1, 'expected an array of {address, ...} or {"addresses": [...]}')
    out: dict[str, ListEntry] = {}
    for i, item in enumerate(items):
        item = {"address": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("address"), str):
            raise ListRefused(path, None, f"item {i}: needs an 'address' string")
        address = evm_address(item["address"])
        if address is None:
            raise ListRefused(path, None, f"item {i}: '{str(item['address'])[:80]}' is not an EVM address")
        out[address] = _entry(address, item, None)
    return list(out.values())


def _from_csv(text: str, path: str) -> list[ListEntry]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "address" not in header:
            raise ListRefused(
                path, 1, f"header has no 'address' column (it has: {', '.join(header) or 'none'})"
            )
        reader.fieldnames = header
        out: dict[str, ListEntry] = {}
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise ListRefused(path, line, f"expected {len(header)} columns ({', '.join(header)})")
            address = evm_address(row["address"] or "")
            if address is None:
                raise ListRefused(path, line, f"'{(row['address'] or '')[:80]}' is not an EVM address")
            out[address] = _entry(address, row, line)
    except csv.Error as exc:
        raise ListRefused(path, reader.line_num, f"not valid CSV ({exc})") from None
    return list(out.values())


def parse_threat(data: bytes, path: str) -> list[ListEntry]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListRefused(path, None, "not UTF-8 text") from None
    out = _from_json(text, path) if text.lstrip()[:1] in ("[", "{") else _from_csv(text, path)
    if not out:
        raise ListRefused(path, None, "no addresses")
    return out
