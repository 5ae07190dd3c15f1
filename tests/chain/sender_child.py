"""Child process of the sender crash test (tests/chain/test_sender_crash.py).

``record RPC DB KEYSTORE PASSFILE TO``: open the V3 keystore, send one transaction through
:class:`~fictra.chain.sender.TxSender` whose store commits the signed transaction to the SQLite file
``DB``, prints ``recorded <hash> <nonce>`` and then hangs inside ``record`` — before the broadcast —
until the parent kills it with SIGKILL.

``recover RPC DB``: a fresh process reads the recorded row and does what a restarted caller does:
:meth:`TxSender.rebroadcast` of the recorded raw bytes, then :meth:`TxSender.track`; prints
``rebroadcast <True|False>`` and ``mined <hash> <block>``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from pydantic import SecretStr

from fictra.chain.keystore import open_keystore
from fictra.chain.pool import RpcPool
from fictra.chain.sender import SignedTx, TxSender
from fictra.clock import SystemClock


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path

    async def record(self, tx: SignedTx) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS sent (tx_hash TEXT, nonce INTEGER, raw TEXT)")
            db.execute("INSERT INTO sent VALUES (?, ?, ?)", (tx.tx_hash, tx.nonce, tx.raw))
        print(f"recorded {tx.tx_hash} {tx.nonce}", flush=True)
        await asyncio.Event().wait()  # the process dies here, between recording and broadcast


async def main(mode: str, rpc_url: str, db_path: str, *rest: str) -> None:
    pool = RpcPool(network="devnet", urls=[rpc_url], clock=SystemClock(), chain_id=31337)
    sender = TxSender(pool=pool, clock=SystemClock(), poll_interval=0.02)
    try:
        await pool.start()
        if mode == "record":
            keystore, passfile, to = rest
            secret = SecretStr(Path(passfile).read_text(encoding="utf-8").strip())
            signer = await open_keystore(Path(keystore), secret, role="tester")
            await sender.send(signer=signer, to=to, data="0x", value=12345, store=SqliteStore(db_path))
            print("broadcast (the kill came too late)", flush=True)
            return
        with sqlite3.connect(db_path) as db:
            ((tx_hash, raw),) = db.execute("SELECT tx_hash, raw FROM sent").fetchall()
        again = await sender.rebroadcast(raw=raw, tx_hash=tx_hash)
        print(f"rebroadcast {again}", flush=True)
        tracked = await sender.track(tx_hash=tx_hash, confirmations=0, timeout_blocks=20)
        receipt = tracked.receipt
        print(f"mined {tx_hash} {receipt.block_number if receipt else None} {tracked.status}", flush=True)
    finally:
        await pool.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
