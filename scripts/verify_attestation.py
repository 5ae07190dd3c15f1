#!/usr/bin/env python3
"""Verify a FICTRA reserve attestation package offline (standard library only).

    python3 scripts/verify_attestation.py attestation.json

Checks, in order: the package hash; each holding's leaf hash and its Merkle proof against
``holdings_root``; each counted holding's value (balance x answer, scaled by both decimals, to USD with 18
decimals, as Reserve.reserveValue computes it); the total against ``reserve_value``; the collateral ratio
against ``pt_supply``. Prints OK and exits 0, or names the first mismatch and exits 1.
"""

from __future__ import annotations

import hashlib
import json
import sys


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def verify(doc: dict) -> list[str]:
    problems: list[str] = []
    body = {k: v for k, v in doc.items() if k != "package_sha256"}
    if _h(_canonical(body)) != doc.get("package_sha256"):
        problems.append("package_sha256 does not match the package's content")
    total = 0
    for i, entry in enumerate(doc["holdings"]):
        holding = entry["holding"]
        leaf = _h(_canonical(holding))
        if leaf != entry["leaf"]:
            problems.append(f"holdings[{i}] ({holding.get('symbol')}): leaf hash does not match the holding")
        node = leaf
        for step in entry["proof"]:
            pair = (node, step["hash"]) if step["side"] == "right" else (step["hash"], node)
            node = _h(bytes.fromhex(pair[0]) + bytes.fromhex(pair[1]))
        if node != doc["holdings_root"]:
            problems.append(
                f"holdings[{i}] ({holding.get('symbol')}): Merkle proof does not reach holdings_root"
            )
        answer = int(holding["answer"])
        if holding["counted"] and answer > 0:
            scale = 10 ** int(holding["decimals"]) * 10 ** int(holding["feed_decimals"])
            total += int(holding["balance"]) * answer * 10**18 // scale
    if total != int(doc["reserve_value"]):
        problems.append(f"reserve_value {doc['reserve_value']} != the holdings' counted value {total}")
    supply = int(doc["pt_supply"])
    ratio = None if supply == 0 else total / supply
    if (ratio is None) != (doc["collateral_ratio"] is None) or (
        ratio is not None and abs(ratio - float(doc["collateral_ratio"])) > 1e-12
    ):
        problems.append(f"collateral_ratio {doc['collateral_ratio']} != {ratio}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verify_attestation.py ATTESTATION.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        doc = json.load(fh)
    problems = verify(doc)
    if problems:
        for p in problems:
            print(f"FAIL: {p}")
        return 1
    print(
        f"OK: block {doc['block']}, {len(doc['holdings'])} holdings, root {doc['holdings_root']}, "
        f"ratio {doc['collateral_ratio']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
