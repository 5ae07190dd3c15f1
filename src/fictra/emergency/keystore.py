"""Emergency signers use the platform's keystores: :mod:`fictra.chain.keystore` (moved there so the
transaction sender and every domain open keys the same way). Re-exported for existing imports."""

from __future__ import annotations

from fictra.chain.keystore import (
    KeystoreError,
    KeystoreInfo,
    Signer,
    SigningRefused,
    create_keystore,
    inspect_keystore,
    open_keystore,
    write_devnet_keystores,
)

__all__ = [
    "KeystoreError",
    "KeystoreInfo",
    "Signer",
    "SigningRefused",
    "create_keystore",
    "inspect_keystore",
    "open_keystore",
    "write_devnet_keystores",
]
