"""`fictra devnet ...` as a user runs it: a subprocess with FICTRA_DATA_DIR=tmp_path, real exit codes,
one-line errors on stderr, and nothing left half-started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fictra.devnet.anvil import port_in_use, rpc_call
from fictra.devnet.state import process_alive, terminate

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def fictra(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=full_env, capture_output=True, text=True, timeout=120
    )


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def state_file(data_dir: Path) -> Path:
    return data_dir / "devnet" / "state.json"


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir whose devnet (if a test left one running) is stopped at the end."""
    yield tmp_path
    try:
        pid = json.loads(state_file(tmp_path).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return
    if process_alive(pid):
        terminate(pid)


@pytest.mark.slow
def test_up_status_scenario_fill_down_round_trip(data_dir: Path) -> None:
    up = fictra(data_dir, "devnet", "up", "--block-time", "0")
    assert up.returncode == 0, up.stderr
    state = json.loads(state_file(data_dir).read_text())
    assert process_alive(state["pid"])
    assert state["rpc_url"] in up.stdout and "PaymentToken" in up.stdout and "31337" in up.stdout
    manifest = json.loads((data_dir / "devnet" / "manifest.json").read_text())
    assert manifest["contracts"]["PaymentToken"]["address"] in up.stdout
    # Anvil is detached: it outlived the CLI process and answers
    assert rpc_call(state["rpc_url"], "eth_chainId") == "0x7a69"

    status = fictra(data_dir, "devnet", "status")
    assert status.returncode == 0 and "running" in status.stdout and "head block" in status.stdout

    one_line_error(fictra(data_dir, "devnet", "up"), "already running", str(state["pid"]))

    paused = fictra(data_dir, "devnet", "scenario", "pause")
    assert paused.returncode == 0, paused.stderr
    assert rpc_call(
        state["rpc_url"],
        "eth_call",
        [{"to": manifest["contracts"]["PaymentToken"]["address"], "data": "0x5c975abb"}, "latest"],
    ).endswith("1")
    assert "pause" in fictra(data_dir, "devnet", "status").stdout.split("scenarios")[1]
    assert fictra(data_dir, "devnet", "scenario", "pause", "--undo").returncode == 0

    filled = fictra(data_dir, "devnet", "fill", "--transactions", "300", "--batch-size", "100")
    assert filled.returncode == 0, filled.stderr
    assert "Added 300 transactions" in filled.stdout

    redeploy = fictra(data_dir, "devnet", "deploy")
    assert redeploy.returncode == 0, redeploy.stderr
    new_manifest = json.loads((data_dir / "devnet" / "manifest.json").read_text())
    assert (
        new_manifest["contracts"]["PaymentToken"]["address"]
        != manifest["contracts"]["PaymentToken"]["address"]
    )

    down = fictra(data_dir, "devnet", "down")
    assert down.returncode == 0, down.stderr
    assert not state_file(data_dir).exists()
    deadline = time.monotonic() + 5
    while process_alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(state["pid"])
    assert "not running" in fictra(data_dir, "devnet", "status").stdout


def test_down_with_nothing_running(data_dir: Path) -> None:
    one_line_error(fictra(data_dir, "devnet", "down"), "No devnet is running", "fictra devnet up")


def test_unknown_scenario_lists_the_known_ones(data_dir: Path) -> None:
    line = one_line_error(fictra(data_dir, "devnet", "scenario", "meteor"), "Unknown scenario 'meteor'")
    for name in ("oracle-stall", "node-down", "reorg", "reserve-drain"):
        assert name in line


def test_scenario_list_has_one_line_each(data_dir: Path) -> None:
    listed = fictra(data_dir, "devnet", "scenario", "--list")
    assert listed.returncode == 0
    lines = listed.stdout.strip().splitlines()
    from fictra.devnet.scenarios import SCENARIOS

    assert len(lines) == len(SCENARIOS) >= 13
    assert lines[0].startswith("oracle-stall ")


def test_scenario_without_a_devnet(data_dir: Path) -> None:
    one_line_error(fictra(data_dir, "devnet", "scenario", "pause"), "No devnet is running")


def test_busy_port(data_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        one_line_error(
            fictra(data_dir, "devnet", "up", "--port", str(port)), f"Port {port}", "already in use"
        )
    assert not state_file(data_dir).exists()


def test_anvil_missing(data_dir: Path) -> None:
    result = fictra(data_dir, "devnet", "up", env={"FICTRA_ANVIL": str(data_dir / "no-anvil")})
    one_line_error(result, "not an executable file")
    assert not state_file(data_dir).exists()


def _write_stale_state(data_dir: Path) -> Path:
    dead = subprocess.Popen(["true"])
    dead.wait()
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    state = {"pid": dead.pid, "port": 1, "rpc_url": "http://127.0.0.1:1", "chain_id": 31337, "block_time": 1}
    path.write_text(json.dumps({**state, "started_at": "2026-01-01T00:00:00+00:00"}))
    return path


def test_stale_state_file_is_cleaned_up_with_a_note(data_dir: Path) -> None:
    path = _write_stale_state(data_dir)
    status = fictra(data_dir, "devnet", "status")
    assert status.returncode == 0
    assert "removed a stale devnet state file" in status.stdout and "not running" in status.stdout
    assert not path.exists()


def test_down_with_a_stale_state_file(data_dir: Path) -> None:
    path = _write_stale_state(data_dir)
    one_line_error(
        fictra(data_dir, "devnet", "down"), "removed a stale devnet state file", "No devnet is running"
    )
    assert not path.exists()


def test_corrupt_state_file(data_dir: Path) -> None:
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text("{nope")
    one_line_error(fictra(data_dir, "devnet", "status"), "state.json", "unreadable")


@pytest.mark.slow
def test_up_simulate_runs_until_interrupted_then_stops_the_devnet(data_dir: Path) -> None:
    env = {**os.environ, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "devnet", "up", "--simulate", "--rate", "20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (data_dir / "devnet" / "manifest.json").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        state = json.loads(state_file(data_dir).read_text())
        time.sleep(3)  # let the simulator send something (the wall clock is what this command runs on)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Devnet stopped" in out and "simulating on" in out
    assert not state_file(data_dir).exists()
    assert not port_in_use(state["port"]) or not process_alive(state["pid"])


def test_scenario_without_a_name(data_dir: Path) -> None:
    one_line_error(fictra(data_dir, "devnet", "scenario"), "Name a scenario", "oracle-stall")


def test_scenario_on_a_devnet_without_deployment(data_dir: Path) -> None:
    assert fictra(data_dir, "devnet", "up", "--no-deploy").returncode == 0
    one_line_error(fictra(data_dir, "devnet", "scenario", "pause"), "No deployment manifest")
    assert fictra(data_dir, "devnet", "down").returncode == 0


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("devnet", "up", "--simulate", "--rate", "0"), ("--rate is 0",)),
        (("devnet", "simulate", "--rate", "-2"), ("--rate is -2",)),
        (("devnet", "fill", "--transactions", "0"), ("--transactions is 0",)),
        (("devnet", "fill", "--pt-share", "2"), ("--pt-share is 2",)),
        (("devnet", "deploy"), ("No devnet is running",)),
        (("devnet", "simulate"), ("No devnet is running",)),
        (("devnet", "fill"), ("No devnet is running",)),
    ],
)
def test_bad_options_fail_before_anything_starts(
    data_dir: Path, args: tuple[str, ...], needles: tuple[str]
) -> None:
    one_line_error(fictra(data_dir, *args), *needles)
    assert not state_file(data_dir).exists()
    assert not (data_dir / "devnet" / "anvil.log").exists()  # Anvil was never started
