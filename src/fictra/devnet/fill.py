"""Build a long chain fast (``fictra devnet fill``): pre-signed transactions in JSON-RPC batches.

Transactions are legacy EIP-155 transfers signed here with coincurve (no per-transaction web3 call),
from the devnet "filler" accounts: ETH transfers, plus PT transfers (so blocks carry logs) when the
system is deployed. Automine and interval mining are switched off, each batch is sent in one HTTP
request and mined into one block with ``evm_mine`` (the base fee pinned so every transaction fits),
and the previous mining mode is restored afterwards — also on failure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import rlp  # type: ignore[import-untyped]
from coincurve import PrivateKey
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak

from fictra.chain.manifest import Manifest
from fictra.clock import Clock, SystemClock
from fictra.devnet.accounts import account, role
from fictra.devnet.chainutil import MiningMode, Rpc
from fictra.errors import DevnetError

GAS_PRICE = 2 * 10**9
PINNED_BASE_FEE = 10**9
ETH_GAS = 21_000
PT_GAS = 120_000
TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")
PT_FUNDING = 10_000 * 10**18  # PT handed to each filler (by a trader) before the run
HTTP_CHUNK = 1_000  # requests per HTTP batch


@dataclass(frozen=True)
class FillResult:
    transactions: int
    pt_transfers: int
    first_block: int
    last_block: int
    seconds: float
    note: str | None = None

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.seconds if self.seconds > 0 else 0.0


class Signer:
    """Signs legacy EIP-155 transactions for one key, tracking its nonce locally."""

    def __init__(self, private_key: str, address: str, nonce: int, chain_id: int) -> None:
        self.key = PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))
        self.address = address
        self.nonce = nonce
        self.chain_id = chain_id

    def sign(self, *, to: bytes, value: int, data: bytes, gas: int, gas_price: int = GAS_PRICE) -> str:
        fields = [self.nonce, gas_price, gas, to, value, data]
        digest = keccak(rlp.encode([*fields, self.chain_id, 0, 0]))
        sig = self.key.sign_recoverable(digest, hasher=None)
        r, s, rec = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
        self.nonce += 1
        signed: bytes = rlp.encode([*fields, rec + self.chain_id * 2 + 35, r, s])
        return "0x" + signed.hex()


def transfer_data(to: bytes, amount: int) -> bytes:
    return TRANSFER_SELECTOR + to.rjust(32, b"\x00") + amount.to_bytes(32, "big")


async def _fund_fillers_with_pt(rpc: Rpc, manifest: Manifest, fillers: list[str]) -> bool:
    """Give each filler PT from a trader (automine is on here). False when PT cannot move (paused...)."""
    from fictra.devnet.chainutil import DevChain

    traders = manifest.roles.get("traders") or []
    if "PaymentToken" not in manifest.contracts or not traders:
        return False
    async with DevChain(rpc.url, manifest) as chain:
        for filler in fillers:
            have = int(await chain.call("PaymentToken", "balanceOf", filler))
            if have >= PT_FUNDING // 10:
                continue
            balance = int(await chain.call("PaymentToken", "balanceOf", traders[0]))
            if balance < PT_FUNDING:
                return False
            receipt = await chain.send(
                traders[0], "PaymentToken", "transfer", filler, PT_FUNDING, check=False
            )
            if isinstance(receipt, str) or receipt["status"] != 1:
                return False
    return True


def check_fill_args(*, transactions: int, batch_size: int, pt_share: float) -> None:
    if transactions < 1:
        raise DevnetError(f"--transactions is {transactions}; use 1 or more.")
    if not 1 <= batch_size <= 1_000:
        raise DevnetError(
            f"--batch-size is {batch_size}; use 1..1000 (a block holds at most ~1400 transfers)."
        )
    if not 0 <= pt_share <= 1:
        raise DevnetError(f"--pt-share is {pt_share}; use a fraction between 0 and 1.")


async def fill(
    *,
    rpc_url: str,
    transactions: int,
    manifest: Manifest | None = None,
    batch_size: int = 500,
    pt_share: float = 0.25,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
    clock: Clock | None = None,
) -> FillResult:
    """Send ``transactions`` transfers, ``batch_size`` per block. ``progress`` gets the count sent so far."""
    check_fill_args(transactions=transactions, batch_size=batch_size, pt_share=pt_share)
    clock = clock or SystemClock()
    rng = random.Random(seed)  # noqa: S311 - reproducible load, not cryptography
    fillers = role("filler")
    async with Rpc(rpc_url, timeout=120.0) as rpc:
        mode = await MiningMode.read(rpc)
        await MiningMode(automine=True, interval=None).apply(rpc)
        try:
            use_pt = pt_share > 0 and manifest is not None
            note = None
            if use_pt and manifest is not None:
                use_pt = await _fund_fillers_with_pt(rpc, manifest, [f.address for f in fillers])
                if not use_pt:
                    note = (
                        "PT could not be handed to the filler accounts (paused? halted?): ETH transfers only."
                    )
            pt_address = (
                to_canonical_address(manifest.address("PaymentToken")) if use_pt and manifest else b""
            )
            chain_id = int(await rpc.call("eth_chainId"), 16)
            nonces = await rpc.batch([("eth_getTransactionCount", [f.address, "pending"]) for f in fillers])
            signers = [
                Signer(account(f.index).private_key, f.address, int(n, 16), chain_id)
                for f, n in zip(fillers, nonces, strict=True)
            ]
            targets = [to_canonical_address(f.address) for f in fillers]
            await MiningMode(automine=False, interval=None).apply(rpc)
            first_block = int(await rpc.call("eth_blockNumber"), 16) + 1
            started = clock.monotonic()
            sent = pt_count = 0
            while sent < transactions:
                n = min(batch_size, transactions - sent)
                raws: list[str] = []
                for i in range(n):
                    signer = signers[(sent + i) % len(signers)]
                    to = targets[rng.randrange(len(targets))]
                    if use_pt and rng.random() < pt_share:
                        data = transfer_data(to, rng.randrange(1, 10**17))
                        raws.append(signer.sign(to=pt_address, value=0, data=data, gas=PT_GAS))
                        pt_count += 1
                    else:
                        raws.append(signer.sign(to=to, value=rng.randrange(1, 10**15), data=b"", gas=ETH_GAS))
                await _send_and_mine(rpc, raws, signers)
                sent += n
                if progress:
                    progress(sent)
            last_block = int(await rpc.call("eth_blockNumber"), 16)
            seconds = clock.monotonic() - started
        finally:
            await mode.apply(rpc)
    return FillResult(transactions, pt_count, first_block, last_block, seconds, note)


async def _send_and_mine(rpc: Rpc, raws: list[str], signers: list[Signer]) -> None:
    """Send the batch, then mine until every filler's transactions are in (others' may share blocks)."""
    for start in range(0, len(raws), HTTP_CHUNK):
        results = await rpc.batch([("eth_sendRawTransaction", [r]) for r in raws[start : start + HTTP_CHUNK]])
        errors = [r["error"] for r in results if isinstance(r, dict) and "error" in r]
        if errors:
            raise DevnetError(f"{len(errors)} pre-signed transactions were rejected; first: {errors[0]}")
    for _ in range(10):
        await rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(PINNED_BASE_FEE)])
        await rpc.call("evm_mine")
        mined = await rpc.batch([("eth_getTransactionCount", [s.address, "latest"]) for s in signers])
        if all(int(n, 16) == s.nonce for n, s in zip(mined, signers, strict=True)):
            return
    raise DevnetError(
        "Fill transactions stayed in the pool after 10 blocks; is something else using the filler accounts?"
    )
