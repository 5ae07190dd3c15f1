"""The emergency signing keys: each configured signer's V3 keystore, opened once and restricted to what
the registered kinds declare they sign (:attr:`Definition.signs`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from fictra.chain.manifest import Manifest
from fictra.config.fields import resolve_secret
from fictra.emergency.abi import function_names
from fictra.emergency.config import EmergencyConfig, expand_dirs, expand_path
from fictra.emergency.keystore import KeystoreError, Signer, inspect_keystore, open_keystore
from fictra.emergency.kinds.spec import Definition
from fictra.emergency.reader import ChainReader
from fictra.errors import ConfigError

__all__ = ["Signers", "allow_lists"]


def allow_lists(
    reader: ChainReader, definitions: Iterable[Definition]
) -> dict[str, dict[str, dict[str, str]]]:
    """What each signer may sign: {signer: {contract address: {selector: function}}}, the union of what
    the kinds declare."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for defn in definitions:
        for signs in defn.signs:
            if signs.contract not in reader.manifest.contracts:
                continue  # a deployment without that contract: nothing of it to sign
            per = out.setdefault(signs.signer, {}).setdefault(reader.address(signs.contract).lower(), {})
            per.update(function_names(signs.artifact, signs.functions))
    return out


class Signers:
    """The configured signers of one deployment (``emergency.yaml:signers``)."""

    def __init__(
        self,
        *,
        config: EmergencyConfig,
        manifest: Manifest,
        data_dir: Path,
        reader: ChainReader,
        definitions: Iterable[Definition],
    ) -> None:
        self.config, self.manifest, self.data_dir, self.reader = config, manifest, data_dir, reader
        self.definitions = list(definitions)
        self._keys: dict[str, Signer] = {}
        self._lock = asyncio.Lock()

    def _where(self, role: str) -> tuple[Path, str | None]:
        cfg = self.config.signers.get(role)
        if cfg is None:
            raise ConfigError(
                f"emergency.yaml:signers.{role}: no {role} signer is configured; add its keystore and "
                "passphrase reference."
            )
        path = expand_path(cfg.keystore, config_dir=self.config.config_dir, data_dir=self.data_dir)
        expected = cfg.address
        if cfg.role is not None:
            holders = self.manifest.roles.get(cfg.role, [])
            if not holders:
                raise ConfigError(
                    f"emergency.yaml:signers.{role}.role: the manifest names no '{cfg.role}' account."
                )
            expected = holders[0]
        return path, expected

    def address(self, role: str) -> str:
        """The address the ``role`` key signs as (from the keystore file; nothing decrypted)."""
        path, expected = self._where(role)
        info, _ = inspect_keystore(path)
        if expected is not None and info.address.lower() != expected.lower():
            raise KeystoreError(
                f"Keystore file '{path}' holds {info.address}, but the {role} signer must be {expected}."
            )
        return info.address

    def addresses(self, roles: Iterable[str]) -> dict[str, str]:
        """The addresses of those of ``roles`` that are configured and readable (dry runs report the
        others as "no signer")."""
        out: dict[str, str] = {}
        for role in set(roles):
            try:
                out[role] = self.address(role)
            except (ConfigError, KeystoreError):
                pass
        return out

    async def check(self) -> list[str]:
        """Open every configured signer's keystore now (start-up): a missing file, a wrong passphrase or
        a key that is not the role holder stops the start with its message, instead of surfacing in the
        middle of an emergency. Returns the signer names."""
        for role in self.config.signers:
            await self.key(role)
        return list(self.config.signers)

    async def key(self, role: str) -> Signer:
        """The ``role`` key, decrypted once and limited to what that role may sign."""
        async with self._lock:
            if role not in self._keys:
                path, expected = self._where(role)
                cfg = self.config.signers[role]
                where = f"emergency.yaml:signers.{role}.passphrase"
                ref = expand_dirs(cfg.passphrase, data_dir=self.data_dir)
                secret = resolve_secret(ref, base_dir=self.config.config_dir, where=where)
                key = await open_keystore(
                    path,
                    secret,
                    role=role,
                    expected_address=expected,
                    secret_name=f"{where} ({cfg.passphrase})",
                )
                allowed = allow_lists(self.reader, self.definitions).get(role, {})
                self._keys[role] = key.restricted(allowed)
            return self._keys[role]
