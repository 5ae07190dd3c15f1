"""Signing keys from encrypted Ethereum V3 keystores, and what each signer may sign.

A keystore is opened with a passphrase given as a secret reference (``env:VAR`` / ``file:path``);
the decrypted key lives only inside a :class:`Signer`, whose repr, str and errors show the role and the
address, never the key or the passphrase. A signer carries an allow-list of (contract, function)
pairs: anything else is refused *before* signing (:class:`SigningRefused`) — the guardian key can only
call ``pauseAll``/``haltTrading`` on the EmergencyController, whatever a caller asks of it.

A :class:`Signer` is what :class:`fictra.chain.sender.TxSender` signs with (its ``TxSigner`` protocol);
it lives here, under ``chain/``, so every domain that sends transactions opens keys the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import is_hex_address, to_checksum_address
from pydantic import SecretStr

from fictra.errors import FictraError, PermissionDeniedError

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


class KeystoreError(FictraError):
    """A keystore cannot be used: missing, not V3, wrong passphrase, or not the expected address (exit 2)."""

    exit_code = 2


class SigningRefused(PermissionDeniedError):
    """A signer was asked to sign a call outside its allow-list (nothing was signed)."""


@dataclass(frozen=True)
class KeystoreInfo:
    path: Path
    address: str
    kdf: str


def inspect_keystore(path: Path) -> tuple[KeystoreInfo, dict[str, Any]]:
    """Read ``path`` as a V3 keystore (no decryption): its info and the parsed JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeystoreError(
            f"Keystore file '{path}' does not exist. Create it with `fictra keystore create --role ROLE "
            f"--out {path}` (the devnet writes its own on `fictra devnet up`)."
        ) from None
    except OSError as exc:
        raise KeystoreError(f"Keystore file '{path}' cannot be read ({exc.strerror}).") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise KeystoreError(
            f"Keystore file '{path}' is not JSON; expected an Ethereum V3 keystore."
        ) from None
    crypto = doc.get("crypto") or doc.get("Crypto") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != 3 or not isinstance(crypto, dict):
        version = doc.get("version") if isinstance(doc, dict) else None
        raise KeystoreError(
            f"Keystore file '{path}' is not an Ethereum V3 keystore (version {version!r}, "
            f"{'no' if not isinstance(crypto, dict) else 'a'} 'crypto' section)."
        )
    raw_address = str(doc.get("address", ""))
    address = raw_address if raw_address.startswith("0x") else "0x" + raw_address
    if not is_hex_address(address):
        raise KeystoreError(f"Keystore file '{path}' has no valid 'address' (got {raw_address[:50]!r}).")
    return KeystoreInfo(path, to_checksum_address(address), str(crypto.get("kdf", "?"))), doc


class Signer:
    """A decrypted key for one role. ``allowed`` maps a contract address to the 4-byte selectors
    (0x-hex) it may call; ``None`` allows everything (a tool's own key, never the guardian)."""

    __slots__ = ("_key", "address", "allowed", "role", "source")

    def __init__(
        self,
        *,
        role: str,
        key: bytes,
        source: str,
        allowed: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.role = role
        self._key = key
        self.address = Account.from_key(key).address
        self.source = source
        self.allowed = {k.lower(): dict(v) for k, v in allowed.items()} if allowed is not None else None

    def __repr__(self) -> str:
        return f"Signer(role={self.role!r}, address={self.address!r}, keystore={self.source!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("A Signer holds a private key and cannot be pickled or copied.")

    def restricted(self, allowed: Mapping[str, Mapping[str, str]]) -> Signer:
        """The same key limited to ``allowed`` ({address: {selector: function name}})."""
        return Signer(role=self.role, key=self._key, source=self.source, allowed=allowed)

    def check(self, to: str, data: str) -> None:
        """Raise :class:`SigningRefused` unless (to, selector of data) is on the allow-list."""
        if self.allowed is None:
            return
        selector = data[:10].lower() if data.startswith("0x") else "0x" + data[:8].lower()
        functions = self.allowed.get(to.lower())
        if functions is None or selector not in functions:
            permitted = "; ".join(
                f"{addr}: {', '.join(sorted(fns.values()))}" for addr, fns in self.allowed.items()
            )
            raise SigningRefused(
                f"The {self.role} key ({self.address}) refuses to sign a call to {to} with selector "
                f"{selector}: it may only call {permitted or 'nothing'}. Nothing was signed."
            )

    def sign(self, tx: dict[str, Any]) -> tuple[str, str]:
        """Sign ``tx`` (after :meth:`check`); returns (raw 0x-hex, tx hash 0x-hex)."""
        self.check(str(tx.get("to", "")), str(tx.get("data", "0x")))
        signed = Account.sign_transaction(tx, self._key)
        return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()


def _decrypt(doc: dict[str, Any], passphrase: str) -> bytes:
    return bytes(Account.decrypt(doc, passphrase))


async def open_keystore(
    path: Path,
    passphrase: SecretStr,
    *,
    role: str,
    expected_address: str | None = None,
    secret_name: str | None = None,
) -> Signer:
    """Decrypt ``path`` (in a worker thread: scrypt is slow) into a :class:`Signer` for ``role``.
    ``secret_name`` names where the passphrase came from, for the wrong-passphrase message."""
    info, doc = inspect_keystore(path)
    if expected_address is not None and info.address.lower() != expected_address.lower():
        raise KeystoreError(
            f"Keystore file '{path}' holds {info.address}, but the {role} signer must be "
            f"{to_checksum_address(expected_address)}. Point emergency.yaml:signers.{role}.keystore at that "
            "account's keystore."
        )
    try:
        key = await asyncio.to_thread(_decrypt, doc, passphrase.get_secret_value())
    except (ValueError, TypeError, KeyError):
        raise KeystoreError(
            f"Wrong passphrase for keystore '{path}' (the {role} signer): it does not decrypt with "
            f"{secret_name or 'the passphrase given'}. Check that secret."
        ) from None
    signer = Signer(role=role, key=key, source=str(path))
    if signer.address.lower() != info.address.lower():
        raise KeystoreError(
            f"Keystore file '{path}' says address {info.address} but its key is {signer.address}; the "
            "file was edited. Recreate it."
        )
    return signer


def _write_private(path: Path, text: str) -> None:
    """Atomically write ``text`` to ``path`` with mode 0600 (created so, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_keystore(
    path: Path,
    private_key: SecretStr,
    passphrase: SecretStr,
    *,
    kdf: str = "scrypt",
    iterations: int | None = None,
) -> KeystoreInfo:
    """Encrypt ``private_key`` (0x-hex) to a V3 keystore at ``path`` (0600). Refuses to overwrite."""
    if path.exists():
        raise KeystoreError(
            f"Keystore file '{path}' already exists; choose another --out or remove it first."
        )
    raw = private_key.get_secret_value().strip()
    try:
        key = bytes.fromhex(raw.removeprefix("0x"))
        if len(key) != 32:
            raise ValueError
        Account.from_key(key)
    except ValueError:
        raise KeystoreError(
            "The private key given is not 32 bytes of hex (64 hex digits, optionally 0x-prefixed)."
        ) from None
    if len(passphrase.get_secret_value()) < 8:
        raise KeystoreError("The passphrase is shorter than 8 characters; choose a longer one.")
    doc = Account.encrypt(key, passphrase.get_secret_value(), kdf=kdf, iterations=iterations)  # type: ignore[arg-type]
    _write_private(path, json.dumps(doc))
    return inspect_keystore(path)[0]


def write_devnet_keystores(keys_dir: Path, accounts: Mapping[str, str]) -> list[Path]:
    """For each ``{name: private key}`` write ``<name>.json`` (V3) and ``<name>.pass`` (a random
    passphrase), both 0600, unless the keystore already holds that key's address. The devnet's keys are
    public test keys; the keystores exist so the platform signs exactly as it would in production."""
    written = []
    for name, key in accounts.items():
        store, secret = keys_dir / f"{name}.json", keys_dir / f"{name}.pass"
        address = Account.from_key(key).address
        if store.is_file() and secret.is_file():
            try:
                if inspect_keystore(store)[0].address.lower() == address.lower():
                    continue
            except KeystoreError:
                pass
        passphrase = secrets.token_urlsafe(24)
        doc = Account.encrypt(
            bytes.fromhex(key.removeprefix("0x")), passphrase, kdf="pbkdf2", iterations=100_000
        )
        _write_private(secret, passphrase + "\n")
        _write_private(store, json.dumps(doc))
        written.append(store)
    return written
