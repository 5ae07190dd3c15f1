"""Deterministic devnet accounts and the FICTRA roles they play.

Anvil derives its accounts from a well-known test mnemonic; the same index always plays the same role,
so the deployment, the simulator, the scenarios and the tests agree without passing keys around.
These keys are public test keys: never use them on a real network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from eth_account import Account

DEVNET_MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNT_COUNT = 40

# role -> account indices (several indices: several actors of that kind)
ROLES: dict[str, tuple[int, ...]] = {
    "deployer": (0,),  # deploys, then hands every admin power to governance
    "guardian": (1,),  # EmergencyController GUARDIAN: can only pause / halt
    "issuer": (2,),  # FoundationToken ISSUER
    "fee_manager": (3,),  # PaymentToken FEE_MANAGER (behind the timelock in production)
    "reserve_manager": (4,),  # Reserve RESERVE_MANAGER
    "transfer_agent": (5,),  # FoundationToken TRANSFER_AGENT
    "operator": (6,),  # the platform's own sender (confirmation-time monitoring)
    "proposer": (7,),  # governance proposer / executor on the devnet
    "oracle_nodes": (8, 9, 10, 11, 12),
    "sovereigns": (13, 14, 15, 16, 17),
    "traders": tuple(range(18, 30)),
    "attacker": (30,),  # an outsider used by scenarios (unauthorized calls)
    "filler": (31, 32, 33, 34),  # senders used by `devnet fill`
}


@dataclass(frozen=True)
class DevAccount:
    index: int
    address: str
    private_key: str  # 0x-hex; public test key


@cache
def account(index: int) -> DevAccount:
    if not 0 <= index < ACCOUNT_COUNT:
        raise ValueError(f"devnet account index {index} is outside 0..{ACCOUNT_COUNT - 1}")
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(DEVNET_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return DevAccount(index=index, address=acct.address, private_key=acct.key.to_0x_hex())


def role(name: str) -> list[DevAccount]:
    """Every account that plays ``name`` (see :data:`ROLES`)."""
    return [account(i) for i in ROLES[name]]


def one(name: str) -> DevAccount:
    """The first account that plays ``name``."""
    return account(ROLES[name][0])
