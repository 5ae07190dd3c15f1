"""Keystores: V3 files, passphrases as secret references, clear errors, guardian allow-list, and no key
material or passphrase in logs, errors or reprs (logging at DEBUG, scanned)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from emergency.people import SECURITY
from emergency.rig import Rig
from fictra.audit.models import AuditEntry
from fictra.devnet.accounts import one
from fictra.devnet.runtime import write_keystores
from fictra.devnet.state import DevnetPaths
from fictra.emergency.abi import encode_call
from fictra.emergency.keystore import (
    KeystoreError,
    SigningRefused,
    create_keystore,
    inspect_keystore,
    open_keystore,
)

GUARDIAN_KEY = one("guardian").private_key


def _secrets(rig: Rig) -> list[str]:
    out = []
    for role in ("guardian", "proposer"):
        key = one(role).private_key
        out += [key, key.removeprefix("0x"), (rig.keys / f"{role}.pass").read_text().strip()]
    return out


async def test_wrong_passphrase_names_the_file_and_nothing_secret_leaks(
    rig: Rig, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = _secrets(rig)
    wrong = rig.keys / "wrong.pass"
    wrong.write_text("not-the-passphrase-123\n")
    good = rig.runner.config.signers["guardian"]
    rig.runner.config.signers["guardian"] = good.model_copy(update={"passphrase": f"file:{wrong}"})
    view = await rig.propose("pause_all", SECURITY)
    await rig.runner.dry_run(view.id)
    with pytest.raises(KeystoreError) as err:
        await rig.runner.execute(view.id, SECURITY)
    assert err.value.exit_code == 2
    message = err.value.user_message
    assert f"Wrong passphrase for keystore '{rig.keys / 'guardian.json'}'" in message
    assert "emergency.yaml:signers.guardian.passphrase" in message
    assert (await rig.view(view.id)).status == "approved"  # nothing changed, nothing sent
    assert not any((await rig.paused()).values())

    rig.runner.config.signers["guardian"] = good  # now the full path, still at DEBUG
    done = await rig.runner.execute(view.id, SECURITY)
    assert done.status == "verified"
    signer = await rig.runner.signer("guardian")
    seen = "\n".join(
        [caplog.text, *(r.getMessage() for r in caplog.records), message, repr(signer), str(signer)]
    )
    captured = capsys.readouterr()
    seen += captured.out + captured.err + done.model_dump_json()
    async with rig.sessions() as s:
        entries = (await s.execute(select(AuditEntry))).scalars().all()
    assert entries
    seen += "\n".join(json.dumps([e.before, e.after, e.reason], default=str) for e in entries)
    assert caplog.records  # DEBUG logging really was on
    for secret in secrets:
        assert secret not in seen
        assert secret.lower() not in seen.lower()
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(signer)


async def test_the_guardian_key_signs_only_pause_and_halt(rig: Rig) -> None:
    signer = await rig.runner.signer("guardian")
    ec = rig.manifest.address("EmergencyController")
    token = rig.manifest.address("PaymentToken")
    base = {"chainId": rig.manifest.chain_id, "nonce": 0, "gas": 100000, "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9, "value": 0}  # fmt: skip
    for to, data in (
        (ec, encode_call("EmergencyController", "unpauseAll")),
        (ec, encode_call("EmergencyController", "grantRole", b"\x00" * 32, signer.address)),
        (token, encode_call("PaymentToken", "pause")),
        (token, encode_call("PaymentToken", "transfer", signer.address, 1)),
    ):
        with pytest.raises(SigningRefused, match=r"only call .*haltTrading, pauseAll. Nothing was signed"):
            signer.sign({**base, "to": to, "data": data})
    raw, tx_hash = signer.sign({**base, "to": ec, "data": encode_call("EmergencyController", "pauseAll")})
    assert raw.startswith("0x02") and len(tx_hash) == 66
    governance = await rig.runner.signer("governance")
    with pytest.raises(SigningRefused):
        governance.sign({**base, "to": ec, "data": encode_call("EmergencyController", "pauseAll")})


async def test_keystore_file_problems_are_each_clear(tmp_path: Path) -> None:
    secret = SecretStr("a-good-passphrase")
    with pytest.raises(KeystoreError, match=r"Keystore file '.*missing.json' does not exist. Create it with"):
        await open_keystore(tmp_path / "missing.json", secret, role="guardian")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(KeystoreError, match="is not JSON; expected an Ethereum V3 keystore"):
        await open_keystore(bad, secret, role="guardian")
    bad.write_text(json.dumps({"version": 1, "address": "00" * 20}))
    with pytest.raises(
        KeystoreError, match=r"is not an Ethereum V3 keystore \(version 1, no 'crypto' section\)"
    ):
        await open_keystore(bad, secret, role="guardian")
    path = tmp_path / "guardian.json"
    info = create_keystore(path, SecretStr(GUARDIAN_KEY), secret, kdf="pbkdf2", iterations=1000)
    assert info.address == one("guardian").address
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = one("attacker").address
    with pytest.raises(KeystoreError, match=f"holds {info.address}, but the guardian signer must be {other}"):
        await open_keystore(path, secret, role="guardian", expected_address=other)
    signer = await open_keystore(path, secret, role="guardian", expected_address=info.address)
    assert signer.address == info.address and GUARDIAN_KEY[2:] not in repr(signer)
    with pytest.raises(KeystoreError, match="already exists"):
        create_keystore(path, SecretStr(GUARDIAN_KEY), secret)
    with pytest.raises(KeystoreError, match="not 32 bytes of hex"):
        create_keystore(tmp_path / "x.json", SecretStr("0x1234"), secret)
    with pytest.raises(KeystoreError, match="shorter than 8 characters"):
        create_keystore(tmp_path / "x.json", SecretStr(GUARDIAN_KEY), SecretStr("short"))


def test_the_devnet_writes_keystores_with_private_passphrases(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path / "devnet")
    write_keystores(paths)
    keys = paths.root / "keys"
    for role in ("guardian", "proposer"):
        for suffix in ("json", "pass"):
            assert stat.S_IMODE((keys / f"{role}.{suffix}").stat().st_mode) == 0o600
        info, _ = inspect_keystore(keys / f"{role}.json")
        assert info.address == one(role).address
    before = (keys / "guardian.pass").read_text()
    write_keystores(paths)  # a redeploy keeps keystores that still match
    assert (keys / "guardian.pass").read_text() == before
