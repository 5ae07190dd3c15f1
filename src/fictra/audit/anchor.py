"""Anchoring checkpoint roots on chain (the ``AuditAnchor`` contract) and reading them back.

On the devnet the contract is deployed by this module (``fictra audit anchor --deploy``, or on the first
anchor when none is recorded) from the devnet ``operator`` account, which also holds ANCHOR_ROLE; where
it lives is recorded in ``<data_dir>/audit/anchor.json``. Anchoring is idempotent: a checkpoint whose
root is already on chain is only marked as anchored.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from web3 import AsyncWeb3

from fictra.audit.checkpoints import latest_checkpoint
from fictra.audit.models import AuditCheckpoint
from fictra.chain import artifacts
from fictra.clock import Clock
from fictra.devnet.accounts import DevAccount, one
from fictra.devnet.txbatch import TxBatch, calldata, create_address, creation_code
from fictra.errors import ChainError, ConfigError, ConflictError, redact_url

ARTIFACT = "AuditAnchor"
GAS_DEPLOY = 1_500_000
GAS_ANCHOR = 150_000


class AnchorConfig(BaseModel):
    """Where the anchor contract is (``<data_dir>/audit/anchor.json``)."""

    model_config = ConfigDict(extra="forbid")

    chain_id: int
    rpc_url: str
    address: str
    deployed_block: int
    deployed_by: str


def anchor_path(data_dir: Path) -> Path:
    return data_dir / "audit" / "anchor.json"


def load_anchor(data_dir: Path) -> AnchorConfig | None:
    """The recorded anchor, or None when none was deployed."""
    path = anchor_path(data_dir)
    try:
        return AnchorConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigError(
            f"The audit anchor file '{path}' is unreadable ({type(exc).__name__}). Delete it and run "
            "`fictra audit anchor --deploy`."
        ) from None


def save_anchor(data_dir: Path, config: AnchorConfig) -> None:
    path = anchor_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".anchor-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(config.model_dump_json(indent=2) + "\n")
    os.replace(tmp, path)


def _web3(rpc_url: str) -> AsyncWeb3[Any]:
    provider = AsyncWeb3.AsyncHTTPProvider(
        rpc_url, request_kwargs={"timeout": 15}, exception_retry_configuration=None
    )
    return AsyncWeb3(provider)


async def _fees(w3: AsyncWeb3[Any]) -> tuple[int, int]:
    latest = await w3.eth.get_block("latest")
    base_fee = int(latest.get("baseFeePerGas") or 0)
    return base_fee * 4 + 2 * 10**9, 10**9


async def deploy_anchor(
    *, rpc_url: str, data_dir: Path, clock: Clock, sender: DevAccount | None = None
) -> AnchorConfig:
    """Deploy AuditAnchor from the devnet operator (admin and anchorer) and record it in anchor.json."""
    operator = sender or one("operator")
    w3 = _web3(rpc_url)
    try:
        try:
            chain_id = int(await w3.eth.chain_id)
            max_fee, tip = await _fees(w3)
        except Exception as exc:  # any transport failure
            raise ChainError(
                f"Cannot reach the chain at {redact_url(rpc_url)} to deploy the audit anchor: {exc}"
            ) from None
        batch = TxBatch(w3=w3, chain_id=chain_id, max_fee=max_fee, priority_fee=tip, clock=clock)
        await batch.load_nonces([operator])
        address = create_address(operator.address, batch.next_nonce(operator))
        code = creation_code(ARTIFACT, operator.address, operator.address)
        batch.add(f"deploy {ARTIFACT}", operator, None, code, gas=GAS_DEPLOY)
        receipts = await batch.flush()
    finally:
        await w3.provider.disconnect()
    config = AnchorConfig(
        chain_id=chain_id,
        rpc_url=rpc_url,
        address=address,
        deployed_block=int(receipts[f"deploy {ARTIFACT}"]["blockNumber"]),
        deployed_by=operator.address,
    )
    save_anchor(data_dir, config)
    return config


class AnchorClient:
    """Reads and writes the anchor contract at ``config.address``."""

    def __init__(self, config: AnchorConfig, *, rpc_url: str | None = None) -> None:
        self.config = config
        self.rpc_url = rpc_url or config.rpc_url
        self.w3 = _web3(self.rpc_url)
        self.contract = self.w3.eth.contract(
            address=to_checksum_address(config.address), abi=list(artifacts.load(ARTIFACT).abi)
        )

    @property
    def address(self) -> str:
        return self.config.address

    @property
    def where(self) -> str:
        return f"the AuditAnchor at {self.config.address} (chain {self.config.chain_id})"

    async def aclose(self) -> None:
        await self.w3.provider.disconnect()

    async def __aenter__(self) -> AnchorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _guard(self, what: str, call: Any) -> Any:
        try:
            return await call
        except Exception as exc:  # transport errors of every kind
            raise ChainError(
                f"Cannot {what} at {redact_url(self.rpc_url)}: {exc}. Is the devnet running? "
                "(`fictra devnet status`; pass --no-anchor to verify without the anchor)"
            ) from None

    async def check(self) -> None:
        """The node answers, is the recorded chain, and the contract is there."""
        chain_id = int(await self._guard("read the chain id", self.w3.eth.chain_id))
        code = await self._guard("read the anchor's code", self.w3.eth.get_code(self.contract.address))
        if chain_id != self.config.chain_id or not bytes(code):
            raise ConfigError(
                f"No AuditAnchor at {self.config.address} on chain {chain_id} at {redact_url(self.rpc_url)} "
                f"(recorded: chain {self.config.chain_id}). The devnet was probably restarted: run "
                "`fictra audit anchor --deploy` to deploy a new anchor."
            )

    async def root_of(self, tree_size: int) -> bytes | None:
        raw = await self._guard("read an anchored root", self.contract.functions.rootOf(tree_size).call())
        root = bytes(raw)
        return None if root == bytes(32) else root

    async def latest(self) -> tuple[int, bytes | None]:
        size, raw = await self._guard(
            "read the latest anchored root", self.contract.functions.latest().call()
        )
        root = bytes(raw)
        return int(size), None if root == bytes(32) else root

    async def anchor(
        self, *, tree_size: int, root: bytes, clock: Clock, sender: DevAccount | None = None
    ) -> str:
        """Send ``anchor(tree_size, root)``; returns the transaction hash once mined (DevnetError naming
        the decoded custom error when it reverts)."""
        operator = sender or one("operator")
        max_fee, tip = await self._guard("read the fees", _fees(self.w3))
        batch = TxBatch(
            w3=self.w3, chain_id=self.config.chain_id, max_fee=max_fee, priority_fee=tip, clock=clock
        )
        await self._guard("read the operator's nonce", batch.load_nonces([operator]))
        step = f"anchor tree size {tree_size}"
        data = calldata(ARTIFACT, "anchor", tree_size, root)
        batch.add(step, operator, self.config.address, data, gas=GAS_ANCHOR)
        receipts = await batch.flush()
        return str(receipts[step]["transactionHash"].to_0x_hex())


@dataclass(frozen=True)
class Anchored:
    checkpoint: AuditCheckpoint
    sent_tx: str | None  # None: the root was already on chain


async def anchor_latest(session: AsyncSession, *, client: AnchorClient, clock: Clock) -> Anchored:
    """Anchor the latest checkpoint (in the caller's transaction: the row is marked anchored)."""
    checkpoint = await latest_checkpoint(session)
    if checkpoint is None:
        raise ConflictError("No audit checkpoint to anchor yet. Make one with `fictra audit checkpoint`.")
    await client.check()
    root = bytes.fromhex(checkpoint.root_hash)
    sent: str | None = None
    on_chain = await client.root_of(checkpoint.tree_size)
    if on_chain is not None and on_chain != root:
        raise ConflictError(
            f"{client.where} already holds another root for tree size {checkpoint.tree_size} "
            f"({on_chain.hex()[:16]}…, checkpoint #{checkpoint.id} has {checkpoint.root_hash[:16]}…). "
            "Run `fictra audit verify`."
        )
    if on_chain is None:
        latest_size, _ = await client.latest()
        if latest_size > checkpoint.tree_size:
            raise ConflictError(
                f"{client.where} already anchors tree size {latest_size}, larger than the latest checkpoint "
                f"({checkpoint.tree_size}). Run `fictra audit verify`."
            )
        sent = await client.anchor(tree_size=checkpoint.tree_size, root=root, clock=clock)
        checkpoint.anchor_tx = sent
    checkpoint.anchor_chain_id = client.config.chain_id
    checkpoint.anchor_address = client.config.address
    checkpoint.anchored_at = clock.now()
    await session.flush()
    return Anchored(checkpoint=checkpoint, sent_tx=sent)
