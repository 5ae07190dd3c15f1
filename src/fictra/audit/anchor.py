"""Anchoring checkpoint roots on chain (the ``AuditAnchor`` contract) and reading them back.

The contract is deployed by :func:`deploy_anchor` with a key the caller gives (a
:class:`~fictra.chain.sender.TxSigner`: a keystore key, or on the devnet the ``operator`` account that
``fictra audit anchor`` passes in), which becomes its admin and holds ANCHOR_ROLE; where it lives is
recorded in ``<data_dir>/audit/anchor.json``. Transactions go through the platform's one sender
(:class:`~fictra.chain.sender.TxSender`): the signed transaction is recorded in
``<data_dir>/audit/anchor-tx.json`` (:class:`AnchorTxFile`) before it is broadcast, and a record left
by a crash is re-broadcast — the same bytes — before anything new is sent. Anchoring is idempotent: a
checkpoint whose root is already on chain is only marked as anchored.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.checkpoints import create_checkpoint, latest_checkpoint
from fictra.audit.models import AuditCheckpoint
from fictra.audit.signing import AuditSigner
from fictra.chain import artifacts
from fictra.chain.pool import RpcPool
from fictra.chain.revert import abi_type
from fictra.chain.sender import Receipt, SignedTx, TxSender, TxSigner
from fictra.clock import Clock, SystemClock
from fictra.errors import ChainError, ConfigError, ConflictError, redact_url

ARTIFACT = "AuditAnchor"
TIMEOUT_BLOCKS = 50  # not included within this many blocks: the anchor transaction failed
TIMEOUT_S = 120.0  # a chain that mines no block at all


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


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_anchor(data_dir: Path, config: AnchorConfig) -> None:
    _write_atomic(anchor_path(data_dir), config.model_dump_json(indent=2) + "\n")


class AnchorTxFile:
    """The anchor's :class:`~fictra.chain.sender.TxStore`: the signed transaction not yet known to be
    mined, in ``<data_dir>/audit/anchor-tx.json`` (written and synced before the broadcast)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "audit" / "anchor-tx.json"

    async def record(self, tx: SignedTx) -> None:
        doc = {
            "tx_hash": tx.tx_hash,
            "raw": tx.raw,
            "nonce": tx.nonce,
            "signer": tx.signer,
            "label": tx.label,
        }
        await asyncio.to_thread(_write_atomic, self.path, json.dumps(doc, indent=2) + "\n")

    def pending(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            raise ConfigError(
                f"The pending anchor transaction '{self.path}' is unreadable; delete it."
            ) from None
        return doc if isinstance(doc, dict) and {"tx_hash", "raw"} <= doc.keys() else None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _function(fn: str) -> tuple[bytes, list[str], list[str]]:
    for entry in artifacts.load(ARTIFACT).entries("function"):
        if entry["name"] == fn:
            types = [abi_type(p) for p in entry["inputs"]]
            selector = keccak(text=f"{fn}({','.join(types)})")[:4]
            return selector, types, [abi_type(p) for p in entry.get("outputs", [])]
    raise ConfigError(f"The {ARTIFACT} artifact has no function '{fn}'.")


def calldata(fn: str, *args: Any) -> str:
    """ABI-encoded call of the anchor's ``fn``."""
    selector, types, _ = _function(fn)
    return "0x" + (selector + encode(types, list(args))).hex()


def creation_code(admin: str, anchorer: str) -> str:
    """The anchor's creation bytecode with its constructor arguments (admin, anchorer)."""
    return artifacts.load(ARTIFACT).bytecode + encode(["address", "address"], [admin, anchorer]).hex()


def _pool(rpc_url: str) -> RpcPool:
    return RpcPool(network="audit-anchor", urls=[rpc_url], clock=SystemClock(), max_rounds=2)


async def _transact(
    sender: TxSender, store: AnchorTxFile, *, signer: TxSigner, to: str | None, data: str, label: str
) -> SignedTx | None:
    """Settle a transaction left recorded by a crash (re-broadcast the same bytes), then send one (None:
    ``data`` is empty, only settle). Waits until mined; a revert raises ConflictError with the reason."""
    left = store.pending()
    if left is not None:
        await sender.rebroadcast(raw=str(left["raw"]), tx_hash=str(left["tx_hash"]))
        await _mined(sender, tx_hash=str(left["tx_hash"]), label=str(left.get("label", "anchor")))
        store.clear()
    if not data:
        return None
    signed = await sender.send(signer=signer, to=to, data=data, store=store, label=label)
    receipt = await _mined(sender, tx_hash=signed.tx_hash, label=label)
    store.clear()
    if not receipt.ok:
        reason = await sender.replay_reason(
            sender=signed.signer, to=to, data=data, block=receipt.block_number, label=label
        )
        raise ConflictError(f"{label} failed (tx {signed.tx_hash}, block {receipt.block_number}): {reason}")
    return signed


async def _mined(sender: TxSender, *, tx_hash: str, label: str) -> Receipt:
    async with asyncio.timeout(TIMEOUT_S):
        tracked = await sender.track(
            tx_hash=tx_hash, confirmations=0, timeout_blocks=TIMEOUT_BLOCKS, on_receipt=_keep
        )
    if tracked.receipt is None:
        raise ChainError(f"{label} (tx {tx_hash}) was {tracked.reason}. Is the node mining?")
    return tracked.receipt


async def _keep(_receipt: Receipt) -> bool:
    return True  # a reverted receipt is reported by the caller, with its replayed reason


async def deploy_anchor(
    *,
    rpc_url: str,
    data_dir: Path,
    clock: Clock,
    signer: TxSigner,
    sender: TxSender | None = None,
) -> AnchorConfig:
    """Deploy AuditAnchor from ``signer`` (admin and anchorer) and record it in anchor.json."""
    pool = sender.pool if sender is not None else _pool(rpc_url)
    try:
        try:
            await pool.start()
            chain_id = int(await pool.call("eth_chainId"), 16)
        except ChainError as exc:  # RpcError, or no usable endpoint at start
            where = redact_url(rpc_url)
            raise ChainError(
                f"Cannot reach the chain at {where} to deploy the audit anchor: {exc.user_message}"
            ) from None
        tx_sender = sender or TxSender(pool=pool, clock=clock)
        code = creation_code(signer.address, signer.address)
        signed = await _transact(
            tx_sender, AnchorTxFile(data_dir), signer=signer, to=None, data=code, label=f"deploy {ARTIFACT}"
        )
        receipt = await tx_sender.receipt(signed.tx_hash) if signed is not None else None
    finally:
        if sender is None:
            await pool.aclose()
    if receipt is None or receipt.contract_address is None:
        raise ChainError(f"Deploying {ARTIFACT} at {redact_url(rpc_url)} created no contract.")
    config = AnchorConfig(
        chain_id=chain_id,
        rpc_url=rpc_url,
        address=receipt.contract_address,
        deployed_block=receipt.block_number,
        deployed_by=to_checksum_address(signer.address),
    )
    save_anchor(data_dir, config)
    return config


class AnchorClient:
    """Reads and writes the anchor contract at ``config.address`` through an RPC pool (its own on
    ``rpc_url``, or ``sender``'s: the platform's)."""

    def __init__(
        self,
        config: AnchorConfig,
        *,
        rpc_url: str | None = None,
        sender: TxSender | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.rpc_url = rpc_url or config.rpc_url
        self._own = sender is None
        self.pool = sender.pool if sender is not None else _pool(self.rpc_url)
        self.sender = sender or TxSender(pool=self.pool, clock=clock or SystemClock())
        self._started = sender is not None

    @property
    def address(self) -> str:
        return self.config.address

    @property
    def where(self) -> str:
        return f"the AuditAnchor at {self.config.address} (chain {self.config.chain_id})"

    async def aclose(self) -> None:
        if self._own:
            await self.pool.aclose()

    async def __aenter__(self) -> AnchorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, what: str, method: str, params: list[Any]) -> Any:
        try:
            if not self._started:
                await self.pool.start()
                self._started = True
            return await self.pool.call(method, params)
        except ChainError as exc:  # RpcError, or no usable endpoint at start
            raise ChainError(
                f"Cannot {what} at {redact_url(self.rpc_url)}: {exc.user_message} Is the devnet running? "
                "(`fictra devnet status`; pass --no-anchor to verify without the anchor)"
            ) from None

    async def _read(self, what: str, fn: str, *args: Any) -> tuple[Any, ...]:
        _, _, outputs = _function(fn)
        out = await self._call(
            what, "eth_call", [{"to": self.config.address, "data": calldata(fn, *args)}, "latest"]
        )
        return tuple(decode(outputs, bytes.fromhex(str(out).removeprefix("0x"))))

    async def check(self) -> None:
        """The node answers, is the recorded chain, and the contract is there."""
        chain_id = int(await self._call("read the chain id", "eth_chainId", []), 16)
        code = await self._call("read the anchor's code", "eth_getCode", [self.config.address, "latest"])
        if chain_id != self.config.chain_id or str(code) in ("0x", "", "None"):
            raise ConfigError(
                f"No AuditAnchor at {self.config.address} on chain {chain_id} at {redact_url(self.rpc_url)} "
                f"(recorded: chain {self.config.chain_id}). The devnet was probably restarted: run "
                "`fictra audit anchor --deploy` to deploy a new anchor."
            )

    async def root_of(self, tree_size: int) -> bytes | None:
        (raw,) = await self._read("read an anchored root", "rootOf", tree_size)
        root = bytes(raw)
        return None if root == bytes(32) else root

    async def latest(self) -> tuple[int, bytes | None]:
        size, raw = await self._read("read the latest anchored root", "latest")
        root = bytes(raw)
        return int(size), None if root == bytes(32) else root

    async def settle(self, *, signer: TxSigner, store: AnchorTxFile) -> None:
        """Re-broadcast a transaction recorded before a crash (the same bytes) and wait for it."""
        await self._call("read the chain id", "eth_chainId", [])
        await _transact(self.sender, store, signer=signer, to=None, data="", label="pending anchor")

    async def anchor(self, *, tree_size: int, root: bytes, signer: TxSigner, store: AnchorTxFile) -> str:
        """Send ``anchor(tree_size, root)`` signed by ``signer`` (recorded in ``store`` first); returns
        the transaction hash once mined. A revert (e.g. the key lacks ANCHOR_ROLE) raises ConflictError
        naming the decoded custom error; nothing is sent then."""
        await self._call("read the chain id", "eth_chainId", [])
        step = f"anchor tree size {tree_size}"
        signed = await _transact(
            self.sender, store, signer=signer, to=self.config.address,
            data=calldata("anchor", tree_size, root), label=step,
        )  # fmt: skip
        if signed is None:
            raise ChainError(f"{step}: nothing was sent.")
        return signed.tx_hash


@dataclass(frozen=True)
class Anchored:
    checkpoint: AuditCheckpoint
    sent_tx: str | None  # None: the root was already on chain


async def anchor_latest(
    session: AsyncSession,
    *,
    client: AnchorClient,
    clock: Clock,
    signer: TxSigner,
    store: AnchorTxFile,
    audit_signer: AuditSigner | None = None,
) -> Anchored:
    """Anchor the latest checkpoint with ``signer`` (in the caller's transaction: the row is marked
    anchored; the signed transaction is recorded in ``store`` before it is broadcast). With
    ``audit_signer`` a checkpoint over the log's current head is signed first (after verifying the entries
    since the previous one), so what is anchored is the latest head."""
    if audit_signer is not None:
        await create_checkpoint(session, signer=audit_signer, clock=clock)
    checkpoint = await latest_checkpoint(session)
    if checkpoint is None:
        raise ConflictError("No audit checkpoint to anchor yet. Make one with `fictra audit checkpoint`.")
    await client.check()
    await client.settle(signer=signer, store=store)
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
        sent = await client.anchor(tree_size=checkpoint.tree_size, root=root, signer=signer, store=store)
        checkpoint.anchor_tx = sent
    checkpoint.anchor_chain_id = client.config.chain_id
    checkpoint.anchor_address = client.config.address
    checkpoint.anchored_at = clock.now()
    await session.flush()
    return Anchored(checkpoint=checkpoint, sent_tx=sent)
