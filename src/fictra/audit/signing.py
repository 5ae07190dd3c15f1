"""The platform's audit signing key: Ed25519, stored encrypted at rest.

``<data_dir>/keys/audit-signing.json`` holds the public key in clear and the private key encrypted with
AES-256-GCM under a key derived by scrypt from a passphrase:

- ``FICTRA_AUDIT_KEY_PASSPHRASE`` when set: the passphrase itself, or a secret reference
  ``file:/run/secrets/audit-pass`` / ``env:OTHER_VAR`` (as in the config files);
- otherwise, outside production only, a random passphrase generated on first use into
  ``<data_dir>/keys/audit-signing.pass`` (mode 0600, directory 0700) — the devnet default. With
  ``FICTRA_ENV=production`` that file is neither created nor read: a passphrase beside the database
  would protect nothing against whoever can read the data directory, so start-up stops with a
  ConfigError asking for the variable.

The passphrase and the private key are never logged nor put in a message. Checking a checkpoint needs
only the public key (:class:`AuditVerifier`), which anyone may have.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from fictra.config.fields import resolve_secret
from fictra.errors import ConfigError

ENV_VAR = "FICTRA_ENV"
PASSPHRASE_ENV = "FICTRA_AUDIT_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
KEY_FILE = "audit-signing.json"
PASS_FILE = "audit-signing.pass"  # noqa: S105 - a file name
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def key_id_of(public_raw: bytes) -> str:
    """SHA-256 (hex) of the raw 32-byte public key: how a checkpoint names the key that signed it."""
    return hashlib.sha256(public_raw).hexdigest()


@dataclass(frozen=True)
class AuditVerifier:
    """Checks signatures with a public key."""

    public_key: bytes  # raw 32 bytes

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def verify(self, message: bytes, signature_hex: str) -> bool:
        try:
            signature = bytes.fromhex(signature_hex)
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class AuditSigner:
    """Signs checkpoints with the platform's private key (held in memory only)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.verifier = AuditVerifier(private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()

    def derive_key(self, purpose: bytes) -> bytes:
        """A 32-byte secret for ``purpose`` (HKDF-SHA256 over the private key): as safe as the key."""
        raw = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(raw)

    def __repr__(self) -> str:  # never show key material
        return f"AuditSigner(key_id={self.key_id[:16]}…)"

    @classmethod
    def generate(cls) -> AuditSigner:
        return cls(Ed25519PrivateKey.generate())


def _kdf(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"]).derive(
        passphrase.encode("utf-8")
    )


def production() -> bool:
    """``FICTRA_ENV=production``: no generated passphrase file beside the database."""
    return os.environ.get(ENV_VAR, "").strip().lower() == "production"


def _write_private(path: Path, text: str, *, exclusive: bool = False) -> bool:
    """Write ``text`` atomically to ``path`` with mode 0600 (directory 0700). With ``exclusive`` an
    existing file is kept (two processes creating the key at once: the first one wins) and False is
    returned."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink(missing_ok=True)
        return True
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _passphrase(keys_dir: Path, *, create: bool) -> str:
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        if env.startswith(("file:", "env:")):
            return resolve_secret(env, base_dir=Path.cwd(), where=PASSPHRASE_ENV).get_secret_value()
        return env
    pass_file = keys_dir / PASS_FILE
    if production():
        move = f" — move the one in '{pass_file}' there" if pass_file.exists() else ""
        raise ConfigError(
            f"{ENV_VAR}=production: the audit signing key's passphrase must not sit beside the database. "
            f"Set {PASSPHRASE_ENV} to the passphrase or to a secret reference (file:/run/secrets/NAME or "
            f"env:VAR){move}."
        )
    if pass_file.is_file():
        if pass_file.stat().st_mode & 0o077:
            raise ConfigError(
                f"The audit key passphrase file '{pass_file}' is readable by other users. "
                f"Run `chmod 600 {pass_file}`."
            )
        return pass_file.read_text(encoding="utf-8").strip()
    if not create:
        raise ConfigError(
            f"The audit signing key in '{keys_dir / KEY_FILE}' is encrypted, but {PASSPHRASE_ENV} is not set "
            f"and there is no passphrase file '{pass_file}'. Set {PASSPHRASE_ENV} to the passphrase the key "
            "was created with."
        )
    generated = secrets.token_urlsafe(32)
    if not _write_private(pass_file, generated + "\n", exclusive=True):
        return _passphrase(keys_dir, create=False)  # another process made it a moment ago
    return generated


def save_key(signer_key: Ed25519PrivateKey, path: Path, passphrase: str, *, exclusive: bool = False) -> bool:
    raw = signer_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = signer_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_kdf(passphrase, salt, _SCRYPT)).encrypt(nonce, raw, public)
    doc = {
        "version": 1,
        "algorithm": "Ed25519",
        "public_key": public.hex(),
        "key_id": key_id_of(public),
        "kdf": {"name": "scrypt", "salt": salt.hex(), **_SCRYPT},
        "cipher": {"name": "AES-256-GCM", "nonce": nonce.hex()},
        "ciphertext": sealed.hex(),
    }
    return _write_private(path, json.dumps(doc, indent=2) + "\n", exclusive=exclusive)


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("algorithm") != "Ed25519":
            raise ValueError("not an Ed25519 key file")
        bytes.fromhex(doc["public_key"])
        return doc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"The audit signing key file '{path}' is unreadable or damaged ({type(exc).__name__}). "
            "Restore it from a backup; a new key cannot verify old checkpoints."
        ) from None


def load_verifier(data_dir: Path) -> AuditVerifier:
    """The platform's public key, read from the key file (no passphrase needed)."""
    path = data_dir / "keys" / KEY_FILE
    if not path.is_file():
        raise ConfigError(
            f"No audit signing key at '{path}'. Make a checkpoint first (`fictra audit checkpoint`), "
            "which creates the key."
        )
    return AuditVerifier(bytes.fromhex(_read(path)["public_key"]))


def load_signer(data_dir: Path, *, create: bool = True) -> AuditSigner:
    """The platform's signer from ``<data_dir>/keys/audit-signing.json``; with ``create`` a new key (and,
    without FICTRA_AUDIT_KEY_PASSPHRASE, a passphrase file) is made on first use."""
    keys_dir = data_dir / "keys"
    path = keys_dir / KEY_FILE
    if not path.is_file():
        if not create:
            raise ConfigError(f"No audit signing key at '{path}'.")
        key = Ed25519PrivateKey.generate()
        if save_key(key, path, _passphrase(keys_dir, create=True), exclusive=True):
            return AuditSigner(key)
        # another process created the key at the same moment: use theirs
    doc = _read(path)
    passphrase = _passphrase(keys_dir, create=False)
    try:
        kdf = doc["kdf"]
        params = {"n": int(kdf["n"]), "r": int(kdf["r"]), "p": int(kdf["p"])}
        secret = _kdf(passphrase, bytes.fromhex(kdf["salt"]), params)
        public = bytes.fromhex(doc["public_key"])
        raw = AESGCM(secret).decrypt(
            bytes.fromhex(doc["cipher"]["nonce"]), bytes.fromhex(doc["ciphertext"]), public
        )
    except InvalidTag:
        raise ConfigError(
            f"Cannot decrypt the audit signing key '{path}': wrong passphrase. Set {PASSPHRASE_ENV} to the "
            f"passphrase it was created with (or restore '{keys_dir / PASS_FILE}')."
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"The audit signing key file '{path}' is damaged ({type(exc).__name__}); "
            "restore it from a backup."
        ) from None
    signer = AuditSigner(Ed25519PrivateKey.from_private_bytes(raw))
    if signer.verifier.public_key != public:
        raise ConfigError(
            f"The audit signing key file '{path}' holds a public key that does not match its private key."
        )
    return signer
