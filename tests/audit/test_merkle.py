"""RFC 6962 Merkle trees: the RFC's reference test vectors, and every proof over random trees of 1..64
leaves compared with a straightforward recursive implementation of the RFC's definitions."""

from __future__ import annotations

import hashlib
import random

import pytest

from fictra.audit import merkle

# The RFC 6962 test vectors used by the certificate-transparency implementations.
DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
]
LEAVES = merkle.leaf_hashes([bytes.fromhex(d) for d in DATA])


# -- the RFC's definitions, written as directly as possible ---------------------------------------------
def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_known_roots() -> None:
    assert merkle.root([]).hex() == hashlib.sha256(b"").hexdigest()
    for n, expected in enumerate(ROOTS, start=1):
        assert merkle.root(LEAVES[:n]).hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_known_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_path(LEAVES[:size], index)
    assert [p.hex()[:8] for p in proof] == path
    assert merkle.verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_known_consistency_proofs(first: int, second: int, proof: list[str]) -> None:
    made = merkle.consistency_proof(LEAVES[:second], first)
    assert [p.hex()[:8] for p in made] == proof
    old, new = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert merkle.verify_consistency(first, second, old, new, made)


def test_random_trees_match_the_reference() -> None:
    rng = random.Random(6962)
    for n in range(1, 65):
        data = [rng.randbytes(32) for _ in range(n)]
        leaves = merkle.leaf_hashes(data)
        tree_root = merkle.root(leaves)
        assert tree_root == ref_mth(data)
        for m in range(n):
            path = merkle.inclusion_path(leaves, m)
            assert path == ref_path(m, data)
            assert merkle.verify_inclusion(leaves[m], m, n, path, tree_root)
            assert not merkle.verify_inclusion(leaves[m], m, n, path, merkle.leaf_hash(b"x"))
            if n > 1:
                other = (m + 1) % n
                assert not merkle.verify_inclusion(leaves[other], m, n, path, tree_root)
                assert not merkle.verify_inclusion(leaves[m], other, n, path, tree_root)
        for first in range(1, n + 1):
            proof = merkle.consistency_proof(leaves, first)
            assert proof == ref_subproof(first, data, True)
            old = merkle.root(leaves[:first])
            assert merkle.verify_consistency(first, n, old, tree_root, proof)
            if first < n:
                assert not merkle.verify_consistency(first, n, merkle.leaf_hash(b"x"), tree_root, proof)
                assert not merkle.verify_consistency(first, n, old, merkle.leaf_hash(b"x"), proof)
                assert not merkle.verify_consistency(first, n, old, tree_root, proof[:-1])


def test_tampered_proofs_fail() -> None:
    leaves = LEAVES
    tree_root = merkle.root(leaves)
    path = merkle.inclusion_path(leaves, 3)
    bad = [*path[:-1], bytes(32)]
    assert not merkle.verify_inclusion(leaves[3], 3, 8, bad, tree_root)
    assert not merkle.verify_inclusion(leaves[3], 3, 8, [*path, bytes(32)], tree_root)  # too long
    assert not merkle.verify_inclusion(leaves[3], 3, 8, path[:-1], tree_root)  # too short
    assert not merkle.verify_inclusion(leaves[5], 5, 6, merkle.inclusion_path(leaves, 5), tree_root)  # size
    assert not merkle.verify_inclusion(leaves[3], 8, 8, path, tree_root)  # index out of range
    proof = merkle.consistency_proof(leaves, 3)
    old = merkle.root(leaves[:3])
    assert not merkle.verify_consistency(3, 8, old, tree_root, [bytes(32), *proof[1:]])
    assert not merkle.verify_consistency(3, 8, old, tree_root, [])
    assert not merkle.verify_consistency(4, 3, old, tree_root, proof)  # shrinking
    assert not merkle.verify_consistency(8, 8, tree_root, tree_root, proof)  # same size needs no proof
    assert merkle.verify_consistency(8, 8, tree_root, tree_root, [])
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, tree_root, [])


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="outside a tree of 8 leaves"):
        merkle.inclusion_path(LEAVES, 8)
    with pytest.raises(ValueError, match=r"old size 9 is outside 0\.\.8"):
        merkle.consistency_proof(LEAVES, 9)
    assert merkle.consistency_proof(LEAVES, 0) == [] and merkle.consistency_proof(LEAVES, 8) == []
