"""THE acceptance test of the shared sender: a real process is killed (SIGKILL) between recording a
signed transaction and broadcasting it; a fresh process re-broadcasts exactly the recorded transaction
(same hash, same nonce), which is mined once — nothing is re-signed with a new nonce."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

from pydantic import SecretStr

from fictra.chain.keystore import create_keystore
from fictra.devnet.accounts import one
from fictra.devnet.anvil import AnvilNode

CHILD = Path(__file__).with_name("sender_child.py")


async def run_child(*args: str, kill_on: str | None = None) -> list[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            while line := (await proc.stdout.readline()).decode().strip():
                lines.append(line)
                if kill_on is not None and line.startswith(kill_on):
                    proc.send_signal(signal.SIGKILL)
                    break
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code == (-signal.SIGKILL if kill_on else 0), stderr
    return lines


async def test_killed_between_record_and_broadcast_the_same_signed_tx_is_rebroadcast(
    anvil: AnvilNode, tmp_path: Path
) -> None:
    key = one("operator")
    store = tmp_path / "operator.json"
    create_keystore(
        store, SecretStr(key.private_key), SecretStr("a long passphrase"), kdf="pbkdf2", iterations=1000
    )
    (tmp_path / "operator.pass").write_text("a long passphrase\n")
    db = str(tmp_path / "sent.db")
    to = one("attacker").address
    rpc = anvil.rpc_url

    def call(method: str, *params: object) -> object:
        import httpx

        answer = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        return answer.json()["result"]

    nonce_before = int(str(call("eth_getTransactionCount", key.address, "pending")), 16)
    balance_before = int(str(call("eth_getBalance", to, "latest")), 16)

    (recorded,) = await run_child(
        "record", rpc, db, str(store), str(tmp_path / "operator.pass"), to, kill_on="recorded"
    )
    _, tx_hash, nonce = recorded.split()
    assert int(nonce) == nonce_before
    with sqlite3.connect(db) as conn:  # the record survived the kill -9
        assert conn.execute("SELECT tx_hash, nonce FROM sent").fetchall() == [(tx_hash, int(nonce))]
    assert call("eth_getTransactionByHash", tx_hash) is None, "killed before the broadcast"
    assert int(str(call("eth_getTransactionCount", key.address, "pending")), 16) == nonce_before

    first = await run_child("recover", rpc, db)
    assert first[0] == "rebroadcast True"
    assert first[1].startswith(f"mined {tx_hash} ") and first[1].endswith(" confirmed")
    again = await run_child("recover", rpc, db)  # a second restart: already mined, nothing sent
    assert again[0] == "rebroadcast False" and again[1] == first[1]

    mined = call("eth_getTransactionByHash", tx_hash)
    assert isinstance(mined, dict) and int(mined["nonce"], 16) == nonce_before
    assert mined["from"].lower() == key.address.lower()
    assert int(str(call("eth_getTransactionCount", key.address, "latest")), 16) == nonce_before + 1, (
        "mined once: exactly one transaction of this key"
    )
    assert int(str(call("eth_getBalance", to, "latest")), 16) == balance_before + 12345
