"""The default config loads, every family is covered, values parse, secrets resolve late and stay hidden."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from fictra.alerting.findings import Severity
from fictra.chain.manifest import Manifest
from fictra.config.fields import redact_secret_ref, resolve_secret
from fictra.errors import ConfigError
from fictra.monitors.config import MONITOR_TYPES, AnomalyMonitor, ContractStatusMonitor, NodeHealthMonitor
from fictra.platform.config_set import load_config_set, reference

from .test_config_support import REPO_CONFIG, copy_config, devnet_manifest


@pytest.fixture
def manifest() -> Manifest:
    return devnet_manifest()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return copy_config(tmp_path)


def test_default_config_is_valid_and_covers_every_family(manifest: Manifest) -> None:
    loaded = load_config_set(REPO_CONFIG, manifest=manifest)
    assert loaded.notes == ()  # contract and event names were checked against the manifest and ABIs
    families = {m.type for m in loaded.monitors} | {"event_rule" if loaded.rules else ""}
    assert families == {
        "node_health",
        "transactions",
        "gas",
        "contract_status",
        "oracle",
        "anomaly",
        "concentration",
        "event_rule",
    }
    names = {r.name for r in loaded.rules}
    assert {
        "large-pt-transfer",
        "pt-role-granted-unlisted",
        "pt-fee-changed",
        "reserve-withdrawal",
        "ft-issued",
    } <= names
    assert loaded.network.chain_id == 31337
    assert loaded.policy.deadline(Severity.P0) == timedelta(minutes=15)
    assert loaded.policy.deadline(Severity.P3) == timedelta(hours=24)


def test_runbook_severity_defaults() -> None:
    node = NodeHealthMonitor.model_validate({"type": "node_health", "name": "n"})
    assert (node.severity.unreachable, node.severity.all_down) == (Severity.P1, Severity.P0)
    status = ContractStatusMonitor.model_validate({"type": "contract_status", "name": "c"})
    assert (
        status.severity.paused
        == status.severity.unauthorized_role_grant
        == status.severity.reserve_breach
        == Severity.P0
    )
    assert {m.__name__ for m in MONITOR_TYPES} >= {"OracleMonitor", "GasMonitor", "TransactionsMonitor"}


def test_without_manifest_contract_names_are_not_checked_and_a_note_says_so(config_dir: Path) -> None:
    (config_dir / "rules" / "extra.yaml").write_text("rules:\n  - {name: x, contract: Nowhere, event: Foo}\n")
    loaded = load_config_set(config_dir)
    assert loaded.notes == ("contract names not checked against a deployment manifest (none given)",)


def test_durations_and_anomaly_band_are_validated() -> None:
    a = AnomalyMonitor.model_validate(
        {"type": "anomaly", "name": "a", "metric": "tx_count", "interval": "500ms"}
    )
    assert a.interval == timedelta(milliseconds=500)
    with pytest.raises(ValueError, match=r"clear_z \(5.0\) must be below z_threshold \(4.0\)"):
        AnomalyMonitor.model_validate({"type": "anomaly", "name": "a", "metric": "tx_count", "clear_z": 5})


def test_secrets_resolve_late_and_never_show(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config_dir / "rpc.secret").write_text("https://user:pw@rpc.example/v3/KEY\n")
    (config_dir / "network.yaml").write_text(
        "name: devnet\nchain_id: 31337\nendpoints:\n"
        "  - {name: a, url: env:FICTRA_TEST_RPC}\n  - {name: b, url: file:rpc.secret}\n"
        "  - {name: c, url: 'https://u:p@node.example:8545/v3/KEY?x=1'}\n"
    )
    loaded = load_config_set(config_dir)
    shown = loaded.redacted()["network"]["endpoints"]
    assert [e["url"] for e in shown] == [
        "env:FICTRA_TEST_RPC",
        "file:rpc.secret",
        "https://node.example:8545/***",
    ]
    assert "KEY" not in str(loaded.redacted())
    monkeypatch.setenv("FICTRA_TEST_RPC", "http://10.0.0.1:8545")
    a, b, _ = (ep.url for ep in loaded.network.endpoints)
    assert resolve_secret(
        a, base_dir=config_dir, where="network.yaml:endpoints.0.url"
    ).get_secret_value() == ("http://10.0.0.1:8545")
    secret = resolve_secret(b, base_dir=config_dir, where="x")
    assert secret.get_secret_value() == "https://user:pw@rpc.example/v3/KEY" and "KEY" not in repr(secret)
    monkeypatch.delenv("FICTRA_TEST_RPC")
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "network.yaml:endpoints.0.url: secret reference 'env:FICTRA_TEST_RPC' names an unset"
        ),
    ):
        resolve_secret(a, base_dir=config_dir, where="network.yaml:endpoints.0.url")
    with pytest.raises(ConfigError, match="secret reference 'file:missing' cannot be read"):
        resolve_secret("file:missing", base_dir=config_dir, where="w")
    assert redact_secret_ref("not a url") == "***"


def test_committed_configuration_reference_is_up_to_date() -> None:
    committed = (REPO_CONFIG.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == reference(), "run `fictra config docs -o docs/configuration.md`"
