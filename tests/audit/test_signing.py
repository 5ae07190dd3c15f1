"""The audit signing key at rest: created encrypted (0600), reloaded with the same passphrase, refused
with a wrong one, damaged files and loose permissions reported clearly; nothing secret in messages."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from fictra.audit.signing import (
    ENV_VAR,
    KEY_FILE,
    PASS_FILE,
    PASSPHRASE_ENV,
    AuditSigner,
    load_signer,
    load_verifier,
)
from fictra.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_production_never_keeps_the_passphrase_beside_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FICTRA_ENV=production: no generated passphrase file (neither made nor read); the variable holds the
    passphrase or a secret reference (file:, env:). The devnet default keeps its generated 0600 file."""
    monkeypatch.setenv(ENV_VAR, "production")
    with pytest.raises(ConfigError, match=f"must not sit beside the database. Set {PASSPHRASE_ENV}"):
        load_signer(tmp_path)
    assert not (tmp_path / "keys" / PASS_FILE).exists() and not (tmp_path / "keys" / KEY_FILE).exists()
    secret = tmp_path / "secrets" / "audit-pass"
    secret.parent.mkdir()
    secret.write_text("from-a-secret-file\n")
    monkeypatch.setenv(PASSPHRASE_ENV, f"file:{secret}")
    made = load_signer(tmp_path)
    assert not (tmp_path / "keys" / PASS_FILE).exists()
    monkeypatch.setenv("OTHER_SECRET", "from-a-secret-file")
    monkeypatch.setenv(PASSPHRASE_ENV, "env:OTHER_SECRET")
    assert load_signer(tmp_path).key_id == made.key_id  # the same passphrase through env:
    monkeypatch.setenv(PASSPHRASE_ENV, "from-a-secret-file")
    assert load_signer(tmp_path).key_id == made.key_id
    devnet = tmp_path / "devnet-data"  # a devnet data directory made before, then run as production
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.delenv(PASSPHRASE_ENV)
    load_signer(devnet)
    assert stat.S_IMODE((devnet / "keys" / PASS_FILE).stat().st_mode) == 0o600
    monkeypatch.setenv(ENV_VAR, "production")
    with pytest.raises(ConfigError, match="move the one in"):
        load_signer(devnet)


def test_two_processes_creating_the_key_at_once_agree(tmp_path: Path) -> None:
    first = load_signer(tmp_path)
    (tmp_path / "keys" / KEY_FILE).unlink()
    assert save_key_exclusive_keeps_the_first(tmp_path, first)


def save_key_exclusive_keeps_the_first(data: Path, first: AuditSigner) -> bool:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fictra.audit.signing import save_key

    path = data / "keys" / KEY_FILE
    passphrase = (data / "keys" / PASS_FILE).read_text().strip()
    assert save_key(Ed25519PrivateKey.generate(), path, passphrase, exclusive=True)
    theirs = load_signer(data).key_id
    assert not save_key(Ed25519PrivateKey.generate(), path, passphrase, exclusive=True)
    return load_signer(data).key_id == theirs != first.key_id


def test_generated_passphrase_file(tmp_path: Path) -> None:
    signer = load_signer(tmp_path)
    keys = tmp_path / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in (KEY_FILE, PASS_FILE):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    doc = json.loads((keys / KEY_FILE).read_text())
    assert doc["algorithm"] == "Ed25519" and doc["kdf"]["name"] == "scrypt"
    assert doc["cipher"]["name"] == "AES-256-GCM" and doc["key_id"] == signer.key_id
    assert (keys / PASS_FILE).read_text().strip() not in (keys / KEY_FILE).read_text()
    again = load_signer(tmp_path)
    assert again.key_id == signer.key_id
    assert again.verifier.verify(b"m", signer.sign(b"m")) and load_verifier(tmp_path) == signer.verifier
    assert "key_id=" in repr(signer) and signer.key_id[16:] not in repr(signer)


def test_passphrase_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret-Passphrase")
    signer = load_signer(tmp_path)
    assert not (tmp_path / "keys" / PASS_FILE).exists()
    assert load_signer(tmp_path).key_id == signer.key_id
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(ConfigError, match="wrong passphrase") as caught:
        load_signer(tmp_path)
    assert "s3cret" not in caught.value.user_message and "wrong" in caught.value.user_message
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(ConfigError, match=f"{PASSPHRASE_ENV} is not set"):
        load_signer(tmp_path)


def test_loose_passphrase_file_is_refused(tmp_path: Path) -> None:
    load_signer(tmp_path)
    os.chmod(tmp_path / "keys" / PASS_FILE, 0o644)
    with pytest.raises(ConfigError, match=r"readable by other users\. Run `chmod 600"):
        load_signer(tmp_path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda doc: "{not json", "unreadable or damaged"),
        (lambda doc: json.dumps({**doc, "algorithm": "RSA"}), "unreadable or damaged"),
        (lambda doc: json.dumps({**doc, "ciphertext": "00" * 48}), "wrong passphrase"),
        (lambda doc: json.dumps({k: v for k, v in doc.items() if k != "kdf"}), r"is damaged \(KeyError\)"),
        (
            lambda doc: json.dumps({**doc, "public_key": AuditSigner.generate().verifier.public_key.hex()}),
            "wrong passphrase",
        ),
    ],
)
def test_damaged_key_file(tmp_path: Path, damage: object, message: str) -> None:
    load_signer(tmp_path)
    path = tmp_path / "keys" / KEY_FILE
    doc = json.loads(path.read_text())
    path.write_text(damage(doc))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        load_signer(tmp_path)


def test_missing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No audit signing key at"):
        load_verifier(tmp_path)
    with pytest.raises(ConfigError, match="No audit signing key at"):
        load_signer(tmp_path, create=False)


def test_bad_signatures_do_not_verify() -> None:
    signer = AuditSigner.generate()
    good = signer.sign(b"checkpoint")
    assert signer.verifier.verify(b"checkpoint", good)
    assert not signer.verifier.verify(b"checkpoinT", good)
    assert not signer.verifier.verify(b"checkpoint", "zz")
    assert not signer.verifier.verify(b"checkpoint", good[:-2])
