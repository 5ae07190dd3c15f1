"""RFC 6962 (§2.1) Merkle trees over the audit log, with inclusion and consistency proofs.

Leaves are the entries' hashes: ``leaf = SHA-256(0x00 || entry_hash)``, interior nodes
``SHA-256(0x01 || left || right)``, and a tree of ``n`` leaves splits at ``k``, the largest power of two
smaller than ``n``. Proof generation follows the RFC's recursive definitions (PATH, SUBPROOF); the
verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2, so a proof made here checks with any conforming
implementation and vice versa.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH over leaf hashes ``leaves[lo:hi]`` (already leaf-hashed), hi - lo >= 1."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_root(leaves, lo, lo + k), _root(leaves, lo + k, hi))


def leaf_hashes(entry_hashes: Sequence[bytes]) -> list[bytes]:
    return [leaf_hash(h) for h in entry_hashes]


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree head over ``leaves`` (leaf hashes, see :func:`leaf_hashes`)."""
    if not leaves:
        return EMPTY_ROOT
    # bottom-up with carries: the same tree as the recursive split, without deep recursion
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (RFC 6962 §2.1.1) of leaf ``index`` in the tree over ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_root(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()  # the recursion appends from the leaf upwards
    return path


def consistency_proof(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """The proof (RFC 6962 §2.1.2) that the tree of the first ``first`` leaves is a prefix of the tree
    over all ``leaves``. Empty when ``first`` is 0 or equals the size."""
    second = len(leaves)
    if not 0 <= first <= second:
        raise ValueError(f"old size {first} is outside 0..{second}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                proof.append(_root(leaves, lo, hi))
            break
        k = _split(n)
        if m <= k:
            proof.append(_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_root(leaves, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` in the tree ``expected_root``
    of ``size`` leaves?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of ``first`` leaves (``first_root``) is a prefix of
    the tree of ``second`` leaves (``second_root``)?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
