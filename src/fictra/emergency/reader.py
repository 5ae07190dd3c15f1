"""How each on-chain kind reaches the chain: the transactions it sends (:func:`plan`), what it should
change and how that is read back (:func:`observe`), and what each signer may sign
(:func:`allow_lists`).

Timelock kinds (unpause_all, resume_trading) are two transactions from the governance key:
``Timelock.schedule(target, 0, data, 0, salt, minDelay)`` then, once ``isOperationReady``,
``Timelock.execute(...)``. The salt is derived from the action id and params hash, so the operation id
is stable across restarts of the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.emergency.abi import decode_output, encode_call, function_names
from fictra.errors import ConfigError

PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
__all__ = [
    "PROPOSAL_STATES",
    "ChainReader",
    "Observation",
    "PlannedCall",
    "allow_lists",
    "observe",
    "plan",
    "timelock_op_id",
]

ZERO32 = b"\x00" * 32
ONCHAIN = frozenset(
    {"pause_all", "halt_trading", "emergency_shutdown", "unpause_all", "resume_trading", "upgrade"}
)
# ERC-1967 implementation slot: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"


class ChainReader:
    """Reads through the platform's RPC pool, addressing contracts by their manifest name."""

    def __init__(self, pool: RpcPool, manifest: Manifest) -> None:
        self.pool = pool
        self.manifest = manifest

    def address(self, name: str) -> str:
        return to_checksum_address(self.manifest.address(name))

    def artifact(self, name: str) -> str:
        return self.manifest.contracts[name].artifact if name in self.manifest.contracts else name

    def name_of(self, address: str) -> str | None:
        for name, entry in self.manifest.contracts.items():
            if entry.address.lower() == address.lower():
                return name
        return None

    async def read(self, name: str, fn: str, *args: Any, block: str = "latest") -> tuple[Any, ...]:
        return await self.read_at(self.address(name), self.artifact(name), fn, *args, block=block)

    async def read_at(
        self, address: str, artifact: str, fn: str, *args: Any, block: str = "latest"
    ) -> tuple[Any, ...]:
        data = encode_call(artifact, fn, *args)
        out = await self.pool.call("eth_call", [{"to": address, "data": data}, block])
        return decode_output(artifact, fn, str(out))

    async def head(self) -> int:
        return int(await self.pool.call("eth_blockNumber"), 16)


@dataclass(frozen=True)
class PlannedCall:
    step: int
    label: str
    signer: str  # guardian | governance
    to: str
    data: str
    wait_ready: bytes | None = None  # a Timelock operation id that must be ready first
    wait_proposal: tuple[int, str] | None = None  # (Governor proposal id, state it must be in first)
    effect: tuple[str, str, str] | None = None  # (from, to, data) simulated as the eventual effect


def timelock_op_id(target: str, data: str, salt: bytes) -> bytes:
    encoded = abi_encode(
        ["address", "uint256", "bytes", "bytes32", "bytes32"],
        [target, 0, bytes.fromhex(data.removeprefix("0x")), ZERO32, salt],
    )
    return keccak(encoded)


def _salt(action_id: int, params_hash: str) -> bytes:
    return keccak(text=f"fictra:action:{action_id}:{params_hash}")


async def plan(
    reader: ChainReader, *, kind: str, params: dict[str, Any], action_id: int, params_hash: str
) -> list[PlannedCall]:
    """The transactions ``kind`` sends, in order."""
    ec = reader.address("EmergencyController")

    def guardian(step: int, fn: str) -> PlannedCall:
        return PlannedCall(
            step, f"EmergencyController.{fn}()", "guardian", ec, encode_call("EmergencyController", fn)
        )

    if kind == "pause_all":
        return [guardian(0, "pauseAll")]
    if kind == "halt_trading":
        return [guardian(0, "haltTrading")]
    if kind == "emergency_shutdown":
        return [guardian(0, "pauseAll"), guardian(1, "haltTrading")]
    if kind in ("unpause_all", "resume_trading"):
        fn = "unpauseAll" if kind == "unpause_all" else "resumeTrading"
        inner = encode_call("EmergencyController", fn)
        timelock = reader.address("Timelock")
        (delay,) = await reader.read("Timelock", "getMinDelay")
        salt = _salt(action_id, params_hash)
        op = timelock_op_id(ec, inner, salt)
        schedule = encode_call(
            "FictraTimelock", "schedule", ec, 0, bytes.fromhex(inner[2:]), ZERO32, salt, delay
        )
        execute = encode_call("FictraTimelock", "execute", ec, 0, bytes.fromhex(inner[2:]), ZERO32, salt)
        return [
            PlannedCall(
                0,
                f"Timelock.schedule(EmergencyController.{fn}(), delay {delay}s)",
                "governance",
                timelock,
                schedule,
                effect=(timelock, ec, inner),
            ),
            PlannedCall(
                1,
                f"Timelock.execute(EmergencyController.{fn}())",
                "governance",
                timelock,
                execute,
                wait_ready=op,
                effect=(timelock, ec, inner),
            ),
        ]
    if kind == "upgrade":
        proxy = reader.address(str(params["proxy"]))
        inner = encode_call(
            reader.artifact(str(params["proxy"])),
            "upgradeToAndCall",
            to_checksum_address(str(params["implementation"])),
            bytes.fromhex(str(params.get("data", "0x"))[2:]),
        )
        description = str(params["description"])
        desc_hash = keccak(text=description)
        batch = ([proxy], [0], [bytes.fromhex(inner[2:])])
        (proposal_id,) = await reader.read("Governor", "hashProposal", *batch, desc_hash)
        governor = reader.address("Governor")
        what = f"{params['proxy']}.upgradeToAndCall({params['implementation']})"
        return [
            PlannedCall(
                0, f"Governor.propose({what})", "governance", governor,
                encode_call("FictraGovernor", "propose", *batch, description),
                effect=(reader.address("Timelock"), proxy, inner),
            ),
            PlannedCall(
                1, f"Governor.queue({what})", "governance", governor,
                encode_call("FictraGovernor", "queue", *batch, desc_hash),
                wait_proposal=(int(proposal_id), "Succeeded"),
            ),
            PlannedCall(
                2, f"Governor.execute({what})", "governance", governor,
                encode_call("FictraGovernor", "execute", *batch, desc_hash),
                wait_proposal=(int(proposal_id), "Queued"),
            ),
        ]  # fmt: skip
    raise ConfigError(f"Action kind '{kind}' sends no transactions.")


@dataclass(frozen=True)
class Observation:
    """What verification reads: ``ok`` when the kind's intended state holds."""

    ok: bool
    text: str
    details: dict[str, Any]


async def _paused(reader: ChainReader) -> tuple[int, int, dict[str, bool]]:
    (targets,) = await reader.read("EmergencyController", "pausables")
    states: dict[str, bool] = {}
    for target in targets:
        name = reader.name_of(target) or to_checksum_address(target)
        artifact = reader.artifact(name) if name in reader.manifest.contracts else "PaymentToken"
        (paused,) = await reader.read_at(to_checksum_address(target), artifact, "paused")
        states[name] = bool(paused)
    return sum(states.values()), len(states), states


async def observe(reader: ChainReader, *, kind: str, params: dict[str, Any]) -> Observation:
    """Read the state ``kind`` changes; ``ok`` when it is what the kind intends."""
    if kind in ("pause_all", "unpause_all", "emergency_shutdown"):
        paused, total, states = await _paused(reader)
        details: dict[str, Any] = {"paused": states, "paused_count": paused, "targets": total}
        want_paused = kind != "unpause_all"
        ok = paused == total if want_paused else paused == 0
        text = f"{paused} of {total} targets paused"
        if kind == "emergency_shutdown":
            (halted,) = await reader.read("EmergencyController", "tradingHalted")
            details["trading_halted"] = bool(halted)
            ok = ok and bool(halted)
            text += f"; trading {'halted' if halted else 'not halted'}"
        return Observation(ok, text, details)
    if kind in ("halt_trading", "resume_trading"):
        (halted,) = await reader.read("EmergencyController", "tradingHalted")
        ok = bool(halted) if kind == "halt_trading" else not halted
        return Observation(
            ok, f"trading {'halted' if halted else 'not halted'}", {"trading_halted": bool(halted)}
        )
    if kind == "upgrade":
        proxy = reader.address(str(params["proxy"]))
        raw = await reader.pool.call("eth_getStorageAt", [proxy, IMPLEMENTATION_SLOT, "latest"])
        current = to_checksum_address("0x" + str(raw)[-40:])
        want = to_checksum_address(str(params["implementation"]))
        return Observation(
            current == want,
            f"{params['proxy']} implementation is {current}" + ("" if current == want else f" (want {want})"),
            {"implementation": current, "expected": want},
        )
    raise ConfigError(f"Action kind '{kind}' has no on-chain state to observe.")


def allow_lists(reader: ChainReader) -> dict[str, dict[str, dict[str, str]]]:
    """What each signer may sign: {signer: {contract address: {selector: function}}}."""
    return {
        "guardian": {
            reader.address("EmergencyController").lower(): function_names(
                "EmergencyController", ("pauseAll", "haltTrading")
            )
        },
        "governance": {
            reader.address("Timelock").lower(): function_names("FictraTimelock", ("schedule", "execute")),
            reader.address("Governor").lower(): function_names(
                "FictraGovernor", ("propose", "queue", "execute")
            ),
        },
    }
