"""Seals: the keyed tags that make the audit log's tail tamper-evident.

The hash chain alone is unkeyed: someone who can write to the database can rewrite the last entries and
recompute every hash after them (and the head row). Seals close that gap. With every append,
:func:`fictra.audit.service.record` writes, in the same transaction:

- on the entry, ``mac`` = HMAC-SHA256(K, "entry" ‖ index ‖ entry_hash): it vouches for that row and,
  through the chain, for every row before it — a rewritten row (re-hashed or not) no longer matches its
  seal, so verification names it exactly, under a checkpoint or not;
- on the head row, ``mac`` = HMAC-SHA256(K, "head" ‖ size ‖ head_hash): a truncated tail (rows
  deleted, the head set back) no longer matches the head's seal. A head seal is never stored on a
  row, so a truncation cannot borrow an older one from the table.

K is derived (HKDF-SHA256) from the platform's Ed25519 audit signing key, so it is protected exactly
like that key (encrypted at rest under the passphrase, see :mod:`fictra.audit.signing`). The window is
zero: every committed entry is sealed in its own transaction. What seals cannot stop is a rollback to an
older *genuine* state (an attacker who saved an earlier head row and the rows up to it): the on-chain
anchor of the latest head is the external witness for that.

The key of a database is registered once per process (:func:`register`), by the entry points (``fictra
up``, the CLI); :func:`key_for` finds it from the session's database. A process with no key registered
writes unsealed rows, which verification with the key reports.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.signing import KEY_FILE, AuditSigner, load_signer
from fictra.errors import ConfigError

__all__ = ["SealKey", "database_key", "forget", "key_for", "register"]


@dataclass(frozen=True, repr=False)
class SealKey:
    """The HMAC key of the seals (never shown)."""

    secret: bytes

    @classmethod
    def of(cls, signer: AuditSigner) -> SealKey:
        return cls(signer.derive_key(b"fictra-audit-seal-v1"))

    def entry(self, *, index: int, entry_hash: str) -> str:
        return self._tag(f"entry\x00{index}\x00{entry_hash}")

    def head(self, *, size: int, head_hash: str) -> str:
        return self._tag(f"head\x00{size}\x00{head_hash}")

    def entry_ok(self, *, index: int, entry_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.entry(index=index, entry_hash=entry_hash), mac)

    def head_ok(self, *, size: int, head_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.head(size=size, head_hash=head_hash), mac)

    def _tag(self, message: str) -> str:
        return hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SealKey(***)"


_Source = SealKey | Callable[[], SealKey]
_keys: dict[str, _Source] = {}
_origin: dict[str, Path | None] = {}
_lock = threading.Lock()


def database_key(url: str) -> str:
    """One name per database whatever the driver spelling (sqlite:// and sqlite+aiosqlite:// agree)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    plain = parsed.set(drivername=parsed.get_backend_name(), password=None)
    return str(plain.render_as_string(hide_password=True))


def register(*, database_url: str, signer: AuditSigner | None = None, data_dir: Path | None = None) -> None:
    """The seal key of ``database_url``: from ``signer`` now, or loaded from ``data_dir`` on the first
    append (``<data_dir>/keys/audit-signing.json``, created when missing; the passphrase rule of
    :func:`fictra.audit.signing.load_signer` applies)."""
    name = database_key(database_url)
    with _lock:
        if signer is not None:
            _keys[name] = SealKey.of(signer)
            _origin[name] = data_dir
            return
        if data_dir is None:
            return
        if name in _keys and _origin.get(name) == data_dir:
            return  # already registered (and maybe loaded) for this data directory
        _keys[name] = lambda: SealKey.of(load_signer(data_dir))
        _origin[name] = data_dir


def forget(database_url: str) -> None:
    with _lock:
        _keys.pop(database_key(database_url), None)
        _origin.pop(database_key(database_url), None)


def key_for(session: AsyncSession, *, create: bool = True) -> SealKey | None:
    """The seal key registered for the session's database, loaded on first use (created when missing
    unless ``create`` is False: verification never makes a key); None when there is none."""
    bind: Any = session.bind
    url = getattr(bind, "url", None)
    if url is None:
        return None
    name = database_key(url.render_as_string(hide_password=False))
    source = _keys.get(name)
    if source is None or isinstance(source, SealKey):
        return source
    data_dir = _origin.get(name)
    if not create and (data_dir is None or not (data_dir / "keys" / KEY_FILE).is_file()):
        return None
    with _lock:
        current = _keys.get(name)
        if current is not None and not isinstance(current, SealKey):
            try:
                current = current()
            except ConfigError:
                if create:
                    raise
                return None  # verification without the passphrase: the seals are not checked
            _keys[name] = current
        return current
