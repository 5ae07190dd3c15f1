"""OFAC SDN / consolidated CSV (``SDN.CSV``, ``CONS_PRIM.CSV``): no header, 12 columns per row —
ent_num, name, type, program, title, call sign, vessel type, tonnage, GRT, vessel flag, vessel owner,
remarks — with ``-0-`` for empty. Digital currency addresses are in the remarks
(``Digital Currency Address - ETH 0x...;``). A row with another number of columns is refused with its line.
"""

from __future__ import annotations

import csv
import io
import re

from fictra.compliance.formats.common import ListEntry, ListRefused, evm_address

__all__ = ["COLUMNS", "parse_ofac_csv"]

COLUMNS = tuple(
    "ent_num name type program title call_sign vess_type tonnage grt vess_flag vess_owner remarks".split()
)
_ADDRESS = re.compile(r"Digital Currency Address - ([A-Za-z0-9]+)\s+([^\s;]+)")
_AKA = re.compile(r"a\.k\.a\. '([^']+)'")
_NULL = "-0-"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _clean(value: str) -> str:
    value = value.strip()
    return "" if value == _NULL else value


def parse_ofac_csv(data: bytes, path: str) -> list[ListEntry]:
    reader = csv.reader(io.StringIO(_text(data), newline=""), strict=True)
    out: list[ListEntry] = []
    seen: set[str] = set()
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()) or row[0].strip() == "\x1a":
                continue  # blank lines and the DOS end-of-file marker of the official export
            if len(row) != len(COLUMNS):
                raise ListRefused(
                    path, line, f"{len(row)} columns, expected {len(COLUMNS)} ({', '.join(COLUMNS)})"
                )
            fields = dict(zip(COLUMNS, (_clean(v) for v in row), strict=True))
            key, name = fields["ent_num"], fields["name"]
            if not key.isdigit():
                raise ListRefused(path, line, f"ent_num '{key[:40]}' is not a number")
            if not name:
                raise ListRefused(path, line, f"entry {key} has no name")
            if key in seen:
                raise ListRefused(path, line, f"ent_num {key} appears twice")
            seen.add(key)
            remarks = fields["remarks"]
            addresses = []
            for coin, raw in _ADDRESS.findall(remarks):
                value = raw.rstrip(".,")
                address = evm_address(value)
                if address is not None:
                    addresses.append(address)
                elif coin.upper() == "ETH":
                    raise ListRefused(path, line, f"ETH address '{value[:80]}' is not an Ethereum address")
            kind = fields["type"].lower() or "entity"
            out.append(
                ListEntry(
                    key=key,
                    name=name,
                    kind=kind if kind in ("individual", "vessel", "aircraft") else "entity",
                    aliases=tuple(dict.fromkeys(_AKA.findall(remarks))),
                    addresses=tuple(dict.fromkeys(addresses)),
                    programs=tuple(p.strip() for p in fields["program"].split(";") if p.strip()),
                    line=line,
                )
            )
    except csv.Error as exc:
        raise ListRefused(path, reader.line_num, f"not valid CSV ({exc})") from None
    if not out:
        raise ListRefused(path, None, "no entries")
    return out
