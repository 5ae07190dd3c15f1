"""Amount thresholds that can fire: `fictra config check --chain` reads the tokens' supply and decimals."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from fictra.devnet.anvil import AnvilNode
from fictra.devnet.deploy import deploy_system
from fictra.monitors.config import TransactionsMonitor
from fictra.monitors.thresholds import Token, check_thresholds
from fictra.rules.config import EventRuleConfig

from .clirun import fictra

REPO = Path(__file__).resolve().parents[2]
PT = Token("PaymentToken", total_supply=2_000_000 * 10**18, decimals=18)


def tx_monitor(volume: int) -> TransactionsMonitor:
    return TransactionsMonitor.model_validate(
        {"type": "transactions", "name": "tx", "thresholds": {"max_pt_volume": volume}}
    )


def test_a_threshold_above_the_supply_is_a_problem_one_below_a_token_a_warning() -> None:
    big = EventRuleConfig.model_validate(
        {"name": "big", "contract": "PaymentToken", "event": "Transfer", "condition": "args.value >= 5e24"}
    )
    fine = EventRuleConfig.model_validate(
        {"name": "fine", "contract": "PaymentToken", "event": "Transfer", "condition": "args.value >= 5e22"}
    )
    report = check_thresholds([tx_monitor(10_000_000 * 10**18)], [big, fine], {"PaymentToken": PT})
    assert len(report.problems) == 2 and report.warnings == []
    assert report.problems[0].startswith("monitor 'tx' thresholds.max_pt_volume = ")
    assert "10,000,000.00 PaymentToken" in report.problems[0] and "2,000,000.00" in report.problems[0]
    assert report.problems[1].startswith("rule 'big' condition args.value")
    tiny = check_thresholds([tx_monitor(10_000_000)], [], {"PaymentToken": PT})
    assert tiny.problems == [] and "less than one whole PaymentToken" in tiny.warnings[0]


async def test_config_check_chain_refuses_a_volume_above_the_devnet_supply(
    anvil: AnvilNode, tmp_path: Path
) -> None:
    manifest = await deploy_system(anvil.rpc_url)
    manifest.save(tmp_path / "manifest.json")
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    network = yaml.safe_load((config / "network.yaml").read_text())
    network["endpoints"] = [{"name": "local", "url": anvil.rpc_url}]
    (config / "network.yaml").write_text(yaml.safe_dump(network))
    args = (
        "config",
        "check",
        "--chain",
        "--config-dir",
        str(config),
        "--manifest",
        str(tmp_path / "manifest.json"),
    )

    ok = fictra(tmp_path / "data", *args)
    assert ok.returncode == 0, ok.stdout + ok.stderr  # the shipped thresholds can fire on the devnet
    assert "chain: PaymentToken total supply" in ok.stdout

    tx = yaml.safe_load((config / "monitors" / "transactions.yaml").read_text())
    tx["monitors"][0]["thresholds"]["max_pt_volume"] = 10_000_000 * 10**18
    (config / "monitors" / "transactions.yaml").write_text(yaml.safe_dump(tx))
    bad = fictra(tmp_path / "data", *args)
    assert bad.returncode == 2
    assert (
        "thresholds.max_pt_volume" in bad.stderr + bad.stdout and "can never fire" in bad.stderr + bad.stdout
    )
    assert "Traceback" not in bad.stderr
