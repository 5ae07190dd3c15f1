"""`fictra up` refuses bad config and unreachable endpoints with one clear line, exit 2, and writes
nothing (no database, no log, no devnet left running)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fictra.devnet.anvil import free_port
from monitors.test_config_support import devnet_manifest

REPO = Path(__file__).resolve().parents[2]
FICTRA = [sys.executable, "-m", "fictra.cli"]


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FICTRA_DATA_DIR": str(tmp / "data"), "FICTRA_CONFIG_DIR": str(tmp / "config")}
    env["FICTRA_HTTP_PORT"] = str(free_port())
    return subprocess.run(
        [*FICTRA, "up", "--no-view", "--duration", "5", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp,
    )


def fake_manifest(path: Path, rpc_url: str) -> None:
    """Enough of a manifest to check config references against (no chain needed)."""
    devnet_manifest().model_copy(update={"rpc_url": rpc_url}).save(path)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A config for a 'remote' network (no devnet) whose only endpoint is a dead local port."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    dead = f"http://127.0.0.1:{free_port()}"
    network = {
        "name": "staging",
        "chain_id": 31337,
        "manifest": "manifest.json",
        "endpoints": [{"name": "primary", "url": dead, "timeout": "1s"}],
    }
    (tmp_path / "config" / "network.yaml").write_text(yaml.safe_dump(network))
    fake_manifest(tmp_path / "config" / "manifest.json", dead)
    return tmp_path


def assert_clean_failure(result: subprocess.CompletedProcess[str], tmp: Path, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not (tmp / "data").exists(), list((tmp / "data").rglob("*"))


def test_unreachable_endpoint_at_start_up(remote: Path) -> None:
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "network.yaml", "endpoints", "127.0.0.1")


def test_broken_yaml(remote: Path) -> None:
    (remote / "config" / "monitors" / "gas.yaml").write_text(
        "monitors:\n  - type: gas\n    name: [unclosed\n"
    )
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "monitors/gas.yaml", "line")


def test_unknown_monitor_type(remote: Path) -> None:
    (remote / "config" / "monitors" / "extra.yaml").write_text(
        "monitors:\n  - type: telepathy\n    name: x\n"
    )
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "monitors/extra.yaml", "telepathy")


def test_invalid_cel(remote: Path) -> None:
    (remote / "config" / "rules" / "extra.yaml").write_text(
        "rules:\n  - name: broken\n    contract: PaymentToken\n    event: Transfer\n"
        "    condition: 'args.value >'\n    severity: P2\n    summary: x\n"
    )
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "rules/extra.yaml", "condition")


def test_unknown_contract_name(remote: Path) -> None:
    (remote / "config" / "rules" / "extra.yaml").write_text(
        "rules:\n  - name: ghost\n    contract: NoSuchContract\n    event: Transfer\n"
        "    severity: P2\n    summary: x\n"
    )
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "rules/extra.yaml", "NoSuchContract")


def test_missing_manifest(remote: Path) -> None:
    (remote / "config" / "manifest.json").unlink()
    result = run(remote, "--no-devnet")
    assert_clean_failure(result, remote, "manifest")


def test_a_wrong_keystore_passphrase_stops_the_start(tmp_path: Path) -> None:
    """The emergency keys are opened at start-up: a wrong passphrase is one clear line (naming the
    keystore, never the passphrase) and exit 2 — not a surprise in the middle of an emergency — and the
    devnet started for this run is stopped again."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    port = free_port()
    network = yaml.safe_load((tmp_path / "config" / "network.yaml").read_text())
    network["endpoints"][0]["url"] = f"http://127.0.0.1:{port}"
    (tmp_path / "config" / "network.yaml").write_text(yaml.safe_dump(network))
    emergency = yaml.safe_load((tmp_path / "config" / "emergency.yaml").read_text())
    emergency["signers"]["guardian"]["passphrase"] = "env:FICTRA_TEST_GUARDIAN_PASSPHRASE"
    (tmp_path / "config" / "emergency.yaml").write_text(yaml.safe_dump(emergency))
    os.environ["FICTRA_TEST_GUARDIAN_PASSPHRASE"] = "not-the-passphrase-4711"
    try:
        result = run(tmp_path, "--no-simulate")
    finally:
        del os.environ["FICTRA_TEST_GUARDIAN_PASSPHRASE"]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "guardian.json" in result.stderr and "passphrase" in result.stderr.lower(), result.stderr
    assert "not-the-passphrase-4711" not in result.stderr + result.stdout
    assert "stopped again" in result.stdout, result.stdout
    assert not (tmp_path / "data" / "devnet" / "state.json").exists()


def test_up_with_the_default_relative_data_dir_signs_with_the_devnet_keystores(tmp_path: Path) -> None:
    """What `make run` does on a fresh clone: data dir `.fictra` relative to the working directory, config
    in `config/`. The devnet's keystores (${devnet_dir} in emergency.yaml) are found and open."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    network = yaml.safe_load((tmp_path / "config" / "network.yaml").read_text())
    network["endpoints"][0]["url"] = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "config" / "network.yaml").write_text(yaml.safe_dump(network))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FICTRA_")}
    env["FICTRA_HTTP_PORT"] = str(free_port())
    try:
        result = subprocess.run(
            [*FICTRA, "up", "--no-view", "--no-simulate", "--duration", "2"],
            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert (tmp_path / ".fictra" / "devnet" / "keys" / "guardian.json").is_file()
    finally:
        subprocess.run([*FICTRA, "devnet", "down"], env=env, cwd=tmp_path, capture_output=True, timeout=60)


def test_ctrl_c_with_piped_output_stops_at_once(tmp_path: Path) -> None:
    """Output to a pipe (no TTY), the simulator and the console running: one SIGINT stops everything within
    seconds (no worker thread may hold the exit) and prints the final line."""
    import signal
    import time

    shutil.copytree(REPO / "config", tmp_path / "config")
    network = yaml.safe_load((tmp_path / "config" / "network.yaml").read_text())
    network["endpoints"][0]["url"] = f"http://127.0.0.1:{free_port()}"
    network.pop("manifest", None)
    (tmp_path / "config" / "network.yaml").write_text(yaml.safe_dump(network))
    env = {
        **os.environ,
        "FICTRA_DATA_DIR": str(tmp_path / "data"),
        "FICTRA_CONFIG_DIR": str(tmp_path / "config"),
    }
    env["FICTRA_HTTP_PORT"] = str(free_port())
    proc = subprocess.Popen(
        [*FICTRA, "up"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # the where-block ends with the console's address once everything runs
            lines.append(line)
            if "HTTP:" in line:
                break
        assert any("HTTP:" in line for line in lines), "".join(lines)
        time.sleep(2)  # the follower, the simulator and the database writers at work
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - started
        assert proc.returncode == 0, out
        assert "Stopped." in out and "Traceback" not in out
        assert took < 15, f"Ctrl-C took {took:.1f}s"
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run([*FICTRA, "devnet", "down"], env=env, cwd=tmp_path, capture_output=True, timeout=60)
