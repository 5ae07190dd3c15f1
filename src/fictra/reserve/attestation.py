"""The reserve attestation package: the proof of reserve at one block as a self-verifying JSON document.

Each holding (asset, token, balance, decimals, price answer with its round id and time, feed decimals) is a
leaf ``sha256(canonical JSON)`` of a Merkle tree (sha256 of the concatenated child hashes; an odd node is
paired with itself); the package carries the root, each holding's inclusion proof, the PT supply, the
counted value and the ratio. ``scripts/verify_attestation.py`` (standard library only) checks it offline:
the leaves, the proofs, the root, each valuation and the totals — one changed balance fails it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fictra.reserve.proof import Proof

__all__ = ["build_attestation", "leaf_hash", "merkle"]

VERSION = 1


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leaf_hash(holding: dict[str, Any]) -> str:
    return _h(json.dumps(holding, sort_keys=True, separators=(",", ":")).encode())


def merkle(leaves: list[str]) -> tuple[str, list[list[dict[str, str]]]]:
    """The root and, for each leaf, its proof: [{"side": "left"|"right", "hash": ...}, ...] bottom-up."""
    if not leaves:
        return _h(b""), []
    proofs: list[list[dict[str, str]]] = [[] for _ in leaves]
    positions = list(range(len(leaves)))  # each leaf's index in the current level
    level = list(leaves)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            left = level[i]
            right = level[i + 1] if i + 1 < len(level) else level[i]
            nxt.append(_h(bytes.fromhex(left) + bytes.fromhex(right)))
        for leaf, pos in enumerate(positions):
            sibling = pos ^ 1
            sibling_hash = level[sibling] if sibling < len(level) else level[pos]
            proofs[leaf].append({"side": "right" if pos % 2 == 0 else "left", "hash": sibling_hash})
            positions[leaf] = pos // 2
        level = nxt
    return level[0], proofs


def build_attestation(proof: Proof, *, chain_id: int, reserve: str, token: str) -> dict[str, Any]:
    holdings = []
    for a in proof.assets:
        r = a.reading
        holdings.append({
            "symbol": r.symbol, "token": r.token, "feed": r.feed, "balance": str(r.balance),
            "decimals": r.decimals, "answer": str(r.answer), "feed_decimals": r.feed_decimals,
            "round_id": r.round_id, "updated_at": r.updated_at, "counted": not a.stale,
        })  # fmt: skip
    leaves = [leaf_hash(h) for h in holdings]
    root, proofs = merkle(leaves)
    body = {
        "version": VERSION,
        "chain_id": chain_id,
        "block": proof.block,
        "timestamp": proof.timestamp,
        "reserve": reserve,
        "payment_token": token,
        "pt_supply": str(proof.supply),
        "reserve_value": str(proof.value),
        "collateral_ratio": proof.ratio,
        "holdings_root": root,
        "holdings": [
            {"holding": h, "leaf": leaf, "proof": p}
            for h, leaf, p in zip(holdings, leaves, proofs, strict=True)
        ],
    }
    body["package_sha256"] = _h(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    return body
