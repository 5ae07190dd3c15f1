"""The audit signing key at rest: created encrypted (0600), reloaded with the same passphrase, refused
with a wrong one, damaged files and loose permissions reported clearly; nothing secret in messages."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from fictra.audit.signing import KEY_FILE, PASS_FILE, PASSPHRASE_ENV, AuditSigner, load_signer, load_verifier
from fictra.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


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
