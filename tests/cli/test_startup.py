"""Starting the CLI imports only what the command needs (issue 13: `fictra --help` < 0.3 s).

The checks count modules, not seconds (timings belong to `make bench`): a fresh interpreter runs the
command and reports ``sys.modules``; the heavy stacks must be absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fictra.cli import COMMANDS, load_command

# The stacks that made `fictra --help` take 2.5 s: the devnet pulls web3 and eth_account, which pull
# eth_keyfile and py_ecc (BLS pairing constants computed at import).
HEAVY = ("web3", "eth_account", "eth_keyfile", "py_ecc", "eth_abi", "fictra.devnet", "weasyprint", "uvicorn")

# The stacks no group's --help may import.
CHAIN_STACKS = ("web3", "eth_account", "eth_keyfile", "py_ecc", "fictra.devnet")

PROBE = """
import json, sys
sys.argv = ["fictra", *json.loads(sys.argv[1])]
from fictra.cli import main
try:
    main()
except SystemExit:
    pass
# a module bound by fictra.cli.lazy_import and never used is not executed: not counted
loaded = [n for n, m in list(sys.modules.items()) if type(m).__name__ != "_LazyModule"]
print("\\n@@MODULES@@" + json.dumps(sorted(loaded)))
"""


def imported(args: list[str], tmp_path: Path) -> set[str]:
    env = {"FICTRA_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    marker = done.stdout.rfind("@@MODULES@@")
    assert marker >= 0, done.stdout + done.stderr
    return set(json.loads(done.stdout[marker + len("@@MODULES@@") :]))


def heavy_among(modules: set[str], prefixes: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_help_imports_no_command_module_and_no_heavy_stack(tmp_path: Path) -> None:
    modules = imported(["--help"], tmp_path)
    assert heavy_among(modules) == []
    # not even the command modules: --help lists them from the table in fictra.cli
    assert sorted(m for m in modules if m.startswith("fictra.cli.")) == []
    assert heavy_among(modules, ("sqlalchemy", "alembic", "fictra.alerting", "fictra.chain")) == []


def test_alerts_list_imports_no_chain_or_devnet_stack(tmp_path: Path) -> None:
    modules = imported(["alerts", "list"], tmp_path)
    assert "fictra.alerting.queries" in modules  # the command really ran
    assert heavy_among(modules) == []
    # the alert actions' response machinery is imported only by the commands that act
    assert "fictra.response.actions" not in modules


@pytest.mark.parametrize("args", [["alerts", "--help"], ["config", "--help"], ["users", "--help"]])
def test_group_help_needs_no_chain_stack(tmp_path: Path, args: list[str]) -> None:
    # (eth_abi alone is allowed here: the config set decodes ABI types for its checks)
    assert heavy_among(imported(args, tmp_path), CHAIN_STACKS) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    """`fictra --help` shows the table's text without importing; it must be the module's own help."""
    command = load_command(name)
    assert command.name == name
    own = (command.help or "").strip()
    assert own.startswith(COMMANDS[name].help.strip().split("\n\n")[0])
