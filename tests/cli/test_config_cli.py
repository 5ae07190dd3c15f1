"""`fictra config check/show/docs` through the real entry point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fictra.platform.config_set import reference
from monitors.test_config_support import devnet_manifest

from .clirun import fictra

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def test_check_ok_counts_monitors_and_rules(tmp_path: Path, config_dir: Path) -> None:
    result = fictra(tmp_path / "data", "config", "check", "--config-dir", str(config_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "OK: 8 monitors, 14 rules"


def _manifest(path: Path) -> Path:
    devnet_manifest().save(path)  # the names the devnet deployer gives (one fake for every config test)
    return path


def test_check_with_a_manifest_checks_contract_and_event_names(tmp_path: Path, config_dir: Path) -> None:
    manifest = _manifest(tmp_path / "manifest.json")
    ok = fictra(
        tmp_path / "data", "config", "check", "--config-dir", str(config_dir), "--manifest", str(manifest)
    )
    assert (ok.returncode, ok.stdout) == (0, "OK: 8 monitors, 14 rules\n")
    (config_dir / "rules" / "x.yaml").write_text(
        "rules:\n  - {name: x, contract: Resrve, event: Withdrawn}\n"
    )
    bad = fictra(
        tmp_path / "data", "config", "check", "--config-dir", str(config_dir), "--manifest", str(manifest)
    )
    assert bad.returncode == 2
    assert (
        "  rules/x.yaml:rules.0.contract: unknown contract 'Resrve'; known: Asset:CASH, Asset:GOLD,"
        in bad.stderr
    )


def test_missing_manifest_is_one_line_exit_2(tmp_path: Path, config_dir: Path) -> None:
    result = fictra(
        tmp_path / "data",
        "config",
        "check",
        "--config-dir",
        str(config_dir),
        "--manifest",
        str(tmp_path / "none.json"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: No deployment manifest at ")


def test_check_defaults_to_fictra_config_dir(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "alerting.yaml").write_text("ack_deadlines: {P0: never}\n")
    result = fictra(tmp_path / "data", "config", "check", env={"FICTRA_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 2
    assert "  alerting.yaml:ack_deadlines.P0: 'never' is not a duration" in result.stderr


def test_check_reports_every_problem_exit_2_and_writes_nothing(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "monitors" / "nodes.yaml").write_text("monitors:\n  - type: node_wealth\n    name: rpc\n")
    (config_dir / "rules" / "bad.yaml").write_text(
        "rules:\n  - {name: bad, contract: PaymentToken, event: Transfer,\n"
        "     condition: 'args.value >', oops: 1}\n"
    )
    before = {p: p.read_bytes() for p in config_dir.rglob("*") if p.is_file()}
    data = tmp_path / "data"
    result = fictra(data, "config", "check", "--config-dir", str(config_dir))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: Config in '{config_dir}' has 3 problems:"
    assert lines[1].startswith("  monitors/nodes.yaml:monitors.0.type: unknown monitor type 'node_wealth'")
    assert lines[2].startswith(
        "  rules/bad.yaml:rules.0.condition: invalid CEL expression 'args.value >': 1:13:"
    )
    assert lines[3] == "  rules/bad.yaml:rules.0.oops: unknown key"
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in config_dir.rglob("*") if p.is_file()} == before
    assert not data.exists()  # no database, no state


def test_show_prints_effective_config_with_secrets_redacted(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "network.yaml").write_text(
        "name: devnet\nchain_id: 31337\nendpoints:\n  - {name: a, url: 'https://u:pw@rpc.example/v3/SECRETKEY'}\n"
        "  - {name: b, url: env:FICTRA_RPC}\n"
    )
    result = fictra(tmp_path / "data", "config", "show", "--config-dir", str(config_dir))
    assert result.returncode == 0, result.stderr
    assert "SECRETKEY" not in result.stdout and "pw" not in result.stdout
    assert "url: https://rpc.example/***" in result.stdout
    assert "url: env:FICTRA_RPC" in result.stdout
    assert "P3: 1d" in result.stdout  # defaults filled in
    assert "confirmations: 0" in result.stdout


def test_docs_writes_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "configuration.md"
    result = fictra(tmp_path / "data", "config", "docs", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == reference()
    assert "## monitors/*.yaml: oracle" in out.read_text()
