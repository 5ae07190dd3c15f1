"""Deploy the whole FICTRA reference system on a fresh Anvil and return its :class:`Manifest`.

Every contract address is computed before anything is sent (CREATE from the deployer's nonces, CREATE2
for the Uniswap pair), so the deployment runs in four batches of locally signed transactions
(:mod:`fictra.devnet.txbatch`) with receipts checked in bulk between them:

1. the deployer creates every contract, wires every role, registers the sovereigns, mints the reserve
   assets, creates the PT/CASH pair, hands admin powers to the Timelock and renounces its own;
2. oracle nodes submit round 1 on every feed, the reserve manager deposits the assets, the issuer
   issues FT, the transfer agent authorizes the sovereigns, who delegate their votes to themselves;
3. the reserve manager issues PT (secure mint) to the traders and into the pair, and mints the pool's
   liquidity.

The ProofOfReserve feed (an AggregatorV3 feed the platform's operator key updates) is the PaymentToken's
secure-mint limit; the operator publishes the seeded reserve value in batch 2, before any PT is issued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.chain import artifacts
from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.web3client import async_web3
from fictra.clock import Clock, SystemClock
from fictra.devnet.accounts import ROLES, DevAccount, one, role
from fictra.devnet.txbatch import TxBatch, calldata, create2_address, create_address, creation_code
from fictra.errors import DevnetError, redact_url

Progress = Callable[[str], None]

E18 = 10**18
TIMELOCK_MIN_DELAY_S = 60
VOTING_DELAY_BLOCKS = 1
VOTING_PERIOD_BLOCKS = 30
QUORUM_PERCENT = 4
INITIAL_FEE_BPS = 10
FEED_DECIMALS = 8
FEED_SCALE: int = 10**FEED_DECIMALS
FEED_MIN_SUBMISSIONS = 3
SOVEREIGN_CAP = 10_000_000 * E18
SOVEREIGN_ISSUED = 1_000_000 * E18
TRADER_PT = 100_000 * E18
TRADER_CASH = 100_000 * E18
POOL_PT = 1_000_000 * E18
POOL_CASH = 1_000_000 * E18
# Reserve value 3.3M USD against 2.2M PT (12 traders x 100k + 1M in the pool): 150 % collateral.
RESERVE_SEED = {"CASH": 1_100_000 * E18, "TBILL": 10_000 * E18, "GOLD": 600 * E18}
ASSETS = {"CASH": ("FICTRA Reserve Cash", "Feed:CASH"), "TBILL": ("FICTRA Reserve T-Bill", "Feed:TBILL")}
ASSETS["GOLD"] = ("FICTRA Reserve Gold", "Feed:GOLD")

POR_DESCRIPTION = "FICTRA reserve / USD"
POR_SEED_VALUE = 3_300_000 * E18  # the seeded reserve's value (RESERVE_SEED at the feeds' first prices)
# the reserve manager's own inventory (not in the reserve): what rebalancing buys come from
RESERVE_INVENTORY = {"CASH": 2_000_000 * E18, "TBILL": 20_000 * E18, "GOLD": 1_000 * E18}
GAS_DEPLOY = 7_000_000
GAS_CALL = 400_000


@dataclass(frozen=True)
class FeedSpec:
    symbol: str
    initial_price: float  # USD
    deviation_bps: int
    heartbeat: int = 3600

    @property
    def name(self) -> str:
        return f"Feed:{self.symbol}"

    @property
    def answer(self) -> int:
        return round(self.initial_price * FEED_SCALE)


FEEDS = (
    FeedSpec("BRENT", 82.5, 200),
    FeedSpec("WTI", 78.2, 200),
    FeedSpec("GOLD", 2000.0, 100),
    FeedSpec("WHEAT", 5.8, 300),
    FeedSpec("COPPER", 4.1, 200),
    FeedSpec("NATGAS", 2.75, 500),
    FeedSpec("CASH", 1.0, 25),
    FeedSpec("TBILL", 100.0, 25),
)


def role_id(name: str) -> bytes:
    """The AccessControl role id of ``name`` (DEFAULT_ADMIN_ROLE is zero)."""
    return b"\x00" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


def sovereign_id(index: int) -> bytes:
    """The bytes32 id of sovereign ``index`` (1-based): ASCII "SOVEREIGN-<n>" right-padded."""
    return f"SOVEREIGN-{index}".encode().ljust(32, b"\x00")


async def deploy_system(
    rpc_url: str, *, progress: Progress | None = None, clock: Clock | None = None
) -> Manifest:
    """Deploy, wire and seed the FICTRA system on the (fresh) node at ``rpc_url``. ``clock`` paces the
    receipt polling (default: the system clock)."""
    say = progress or (lambda _msg: None)
    clock = clock or SystemClock()
    started = clock.monotonic()
    w3 = async_web3(rpc_url, deadline=30.0)  # the platform's JSON-RPC client, no web3 session manager
    try:
        try:
            chain_id = int(await w3.eth.chain_id)
            latest = await w3.eth.get_block("latest")
        except Exception as exc:  # any transport failure: the node is not usable
            raise DevnetError(f"Cannot reach the devnet node at {redact_url(rpc_url)}: {exc}") from None
        base_fee = int(latest.get("baseFeePerGas") or 0)
        batch = TxBatch(
            w3=w3, chain_id=chain_id, max_fee=base_fee * 4 + 2 * 10**9, priority_fee=10**9, clock=clock
        )
        deployment = _Deployment(batch=batch, say=say)
        manifest = await deployment.run(rpc_url=rpc_url, chain_id=chain_id)
    finally:
        await w3.provider.disconnect()
    say(f"deployed {len(manifest.contracts)} contracts in {clock.monotonic() - started:.1f}s")
    return manifest


class _Deployment:
    def __init__(self, *, batch: TxBatch, say: Progress) -> None:
        self.batch = batch
        self.say = say
        self.deployer = one("deployer")
        self.addresses: dict[str, str] = {}
        self.deploy_steps: dict[str, str] = {}
        self.abi_of: dict[str, str] = {"Pool:PT-CASH": "UniswapV2Pair"}

    # -- helpers ---------------------------------------------------------------------------------------
    def create(self, name: str, artifact: str, *args: Any, abi: str | None = None) -> str:
        """Queue the creation of ``name`` from ``artifact``; ``abi`` names the artifact used to call it
        (the implementation's, for a proxy)."""
        address = create_address(self.deployer.address, self.batch.next_nonce(self.deployer))
        self.abi_of[name] = abi or artifact
        step = f"deploy {name}"
        self.batch.add(step, self.deployer, None, creation_code(artifact, *args), gas=GAS_DEPLOY)
        self.addresses[name] = address
        self.deploy_steps[name] = step
        return address

    def call(self, sender: DevAccount, name: str, fn: str, *args: Any, gas: int = GAS_CALL) -> str:
        """Queue ``name.fn(*args)`` from ``sender``; returns the step name."""
        step = f"{name}.{fn}({', '.join(_short(a) for a in args)}) from {sender.address}"
        data = calldata(self.abi_of[name], fn, *args)
        self.batch.add(step, sender, self.addresses[name], data, gas=gas)
        return step

    def grant(self, name: str, role_name: str, account: str) -> None:
        self.call(self.deployer, name, "grantRole", role_id(role_name), account)

    def renounce(self, name: str, role_name: str) -> None:
        self.call(self.deployer, name, "renounceRole", role_id(role_name), self.deployer.address)

    # -- phases ----------------------------------------------------------------------------------------
    async def run(self, *, rpc_url: str, chain_id: int) -> Manifest:
        senders = [
            self.deployer,
            one("issuer"),
            one("reserve_manager"),
            one("transfer_agent"),
            one("operator"),
        ]
        senders += role("oracle_nodes") + role("sovereigns")
        await self.batch.load_nonces(senders)
        self.say("deploying contracts and wiring roles")
        self.deploy_contracts()
        self.wire_roles()
        self.seed_assets()
        self.hand_over()
        receipts = await self.batch.flush()
        self.say("submitting first oracle rounds, depositing reserve assets, issuing FT")
        self.first_rounds()
        self.deposit_and_issue_ft()
        await self.batch.flush()
        self.say("issuing PT and seeding the PT/CASH pool")
        self.issue_pt_and_pool()
        await self.batch.flush()
        await self.check_pair()
        blocks = {name: int(receipts[step]["blockNumber"]) for name, step in self.deploy_steps.items()}
        return self.manifest(rpc_url=rpc_url, chain_id=chain_id, blocks=blocks)

    async def check_pair(self) -> None:
        """The pair address was predicted (CREATE2); make sure the factory agrees, since calls to an
        address without code would have "succeeded" silently."""
        a = self.addresses
        data = calldata("UniswapV2Factory", "getPair", a["PaymentToken"], a["Asset:CASH"])
        raw = await self.batch.w3.eth.call({"to": a["UniswapV2Factory"], "data": data})  # type: ignore[typeddict-item]
        actual = to_checksum_address(bytes(raw)[-20:])
        if actual != a["Pool:PT-CASH"]:
            raise DevnetError(
                f"The PT/CASH pair is at {actual}, not at the predicted {a['Pool:PT-CASH']}: the "
                "UniswapV2Pair artifact does not match the factory's bytecode. Rebuild with `make contracts`."
            )

    def deploy_contracts(self) -> None:
        d = self.deployer.address
        proposer = one("proposer").address
        timelock = self.create("Timelock", "FictraTimelock", TIMELOCK_MIN_DELAY_S, [proposer], [proposer], d)
        ft = self.create("FoundationToken", "FoundationToken", d)
        self.create(
            "Governor",
            "FictraGovernor",
            ft,
            timelock,
            VOTING_DELAY_BLOCKS,
            VOTING_PERIOD_BLOCKS,
            QUORUM_PERCENT,
        )
        emergency = self.create("EmergencyController", "EmergencyController", d)
        pt_impl = self.create("PaymentToken#impl", "PaymentToken")
        init = calldata("PaymentToken", "initialize", d, emergency, timelock, INITIAL_FEE_BPS)
        pt = self.create("PaymentToken", "ERC1967Proxy", pt_impl, bytes.fromhex(init[2:]), abi="PaymentToken")
        self.create(
            "ProofOfReserve", "ProofOfReserveFeed", timelock, one("operator").address, POR_DESCRIPTION
        )
        reserve_impl = self.create("Reserve#impl", "Reserve")
        init = calldata("Reserve", "initialize", d, pt)
        self.create("Reserve", "ERC1967Proxy", reserve_impl, bytes.fromhex(init[2:]), abi="Reserve")
        nodes = [a.address for a in role("oracle_nodes")]
        for feed in FEEDS:
            self.create(
                feed.name,
                "CommodityFeed",
                timelock,
                nodes,
                FEED_DECIMALS,
                f"{feed.symbol} / USD",
                feed.heartbeat,
                feed.deviation_bps,
                FEED_MIN_SUBMISSIONS,
            )
        for symbol, (title, _feed) in ASSETS.items():
            self.create(f"Asset:{symbol}", "ReserveAsset", title, symbol, d)
        factory = self.create("UniswapV2Factory", "UniswapV2Factory", d)
        token0, token1 = sorted([pt, self.addresses["Asset:CASH"]], key=lambda a: bytes.fromhex(a[2:]))
        salt = keccak(bytes.fromhex(token0[2:]) + bytes.fromhex(token1[2:]))
        pair_code = bytes.fromhex(artifacts.load("UniswapV2Pair").bytecode[2:])
        self.addresses["Pool:PT-CASH"] = create2_address(factory, salt, pair_code)
        cash = self.addresses["Asset:CASH"]
        step = self.call(self.deployer, "UniswapV2Factory", "createPair", pt, cash, gas=GAS_DEPLOY)
        self.deploy_steps["Pool:PT-CASH"] = step

    def wire_roles(self) -> None:
        a = self.addresses
        for r in ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"):
            self.grant("Timelock", r, a["Governor"])
        self.grant("FoundationToken", "ISSUER_ROLE", one("issuer").address)
        self.grant("FoundationToken", "TRANSFER_AGENT_ROLE", one("transfer_agent").address)
        self.grant("FoundationToken", "PAUSER_ROLE", a["EmergencyController"])
        for i, sovereign in enumerate(role("sovereigns"), start=1):
            sid = sovereign_id(i)
            self.call(
                self.deployer, "FoundationToken", "registerSovereign", sid, sovereign.address, SOVEREIGN_CAP
            )
        self.grant("PaymentToken", "RESERVE_ROLE", a["Reserve"])
        self.grant("PaymentToken", "FEE_MANAGER_ROLE", one("fee_manager").address)
        # governance owns every admin power: fee changes go through the Timelock (the set_pt_fee kind)
        self.grant("PaymentToken", "FEE_MANAGER_ROLE", a["Timelock"])
        self.grant("PaymentToken", "COMPLIANCE_ROLE", one("reserve_manager").address)
        self.grant("PaymentToken", "PAUSER_ROLE", a["EmergencyController"])
        self.grant("PaymentToken", "UPGRADER_ROLE", a["Timelock"])
        self.call(self.deployer, "PaymentToken", "setReserveFeed", a["ProofOfReserve"])
        for symbol, (_title, feed) in ASSETS.items():
            self.call(self.deployer, "Reserve", "addAsset", a[f"Asset:{symbol}"], a[feed])
        self.grant("Reserve", "RESERVE_MANAGER_ROLE", one("reserve_manager").address)
        self.grant("Reserve", "PAUSER_ROLE", a["EmergencyController"])
        self.grant("Reserve", "UPGRADER_ROLE", a["Timelock"])
        self.grant("EmergencyController", "GUARDIAN_ROLE", one("guardian").address)
        self.grant("EmergencyController", "GOVERNANCE_ROLE", self.deployer.address)
        for target in ("FoundationToken", "PaymentToken", "Reserve"):
            self.call(self.deployer, "EmergencyController", "registerPausable", a[target])

    def seed_assets(self) -> None:
        manager = one("reserve_manager").address
        for symbol, amount in RESERVE_SEED.items():
            self.call(self.deployer, f"Asset:{symbol}", "mint", manager, amount + RESERVE_INVENTORY[symbol])
        for trader in role("traders"):
            self.call(self.deployer, "Asset:CASH", "mint", trader.address, TRADER_CASH)
        self.call(self.deployer, "Asset:CASH", "mint", self.addresses["Pool:PT-CASH"], POOL_CASH)

    def hand_over(self) -> None:
        """Give every admin power to the Timelock, then renounce the deployer's."""
        timelock = self.addresses["Timelock"]
        self.grant("EmergencyController", "GOVERNANCE_ROLE", timelock)
        self.renounce("EmergencyController", "GOVERNANCE_ROLE")
        for name in ("FoundationToken", "PaymentToken", "Reserve", "EmergencyController"):
            self.grant(name, "DEFAULT_ADMIN_ROLE", timelock)
            self.renounce(name, "DEFAULT_ADMIN_ROLE")
        self.renounce("Timelock", "DEFAULT_ADMIN_ROLE")

    def first_rounds(self) -> None:
        for node, offset_bps in zip(role("oracle_nodes"), (-2, -1, 0, 1, 2), strict=True):
            for feed in FEEDS:
                answer = feed.answer + feed.answer * offset_bps // 10_000
                self.call(node, feed.name, "submit", 1, answer)

    def deposit_and_issue_ft(self) -> None:
        self.call(one("operator"), "ProofOfReserve", "updateAnswer", POR_SEED_VALUE)
        manager = one("reserve_manager")
        for symbol, amount in RESERVE_SEED.items():
            self.call(manager, f"Asset:{symbol}", "approve", self.addresses["Reserve"], amount)
            self.call(manager, "Reserve", "deposit", self.addresses[f"Asset:{symbol}"], amount)
        issuer, agent = one("issuer"), one("transfer_agent")
        for i, sovereign in enumerate(role("sovereigns"), start=1):
            self.call(agent, "FoundationToken", "authorizeHolder", sovereign.address)
            self.call(issuer, "FoundationToken", "issue", sovereign_id(i), SOVEREIGN_ISSUED)
            self.call(sovereign, "FoundationToken", "delegate", sovereign.address)

    def issue_pt_and_pool(self) -> None:
        manager = one("reserve_manager")
        pair = self.addresses["Pool:PT-CASH"]
        self.call(manager, "Reserve", "issue", pair, POOL_PT)
        for trader in role("traders"):
            self.call(manager, "Reserve", "issue", trader.address, TRADER_PT)
        self.call(manager, "Pool:PT-CASH", "mint", self.deployer.address)

    def manifest(self, *, rpc_url: str, chain_id: int, blocks: dict[str, int]) -> Manifest:
        a = self.addresses
        entries: dict[str, ContractEntry] = {}
        plain = {
            "Timelock": "FictraTimelock",
            "FoundationToken": "FoundationToken",
            "Governor": "FictraGovernor",
            "EmergencyController": "EmergencyController",
            "UniswapV2Factory": "UniswapV2Factory",
            "ProofOfReserve": "ProofOfReserveFeed",
        }
        for name, artifact in plain.items():
            entries[name] = ContractEntry(address=a[name], artifact=artifact, deployed_block=blocks[name])
        for name in ("PaymentToken", "Reserve"):
            entries[name] = ContractEntry(
                address=a[name],
                artifact=name,
                proxy=True,
                implementation=a[f"{name}#impl"],
                deployed_block=blocks[name],
            )
        for feed in FEEDS:
            meta: dict[str, object] = {
                "symbol": feed.symbol,
                "heartbeat": feed.heartbeat,
                "deviation_bps": feed.deviation_bps,
                "decimals": FEED_DECIMALS,
                "initial_price": feed.initial_price,
            }
            entries[feed.name] = ContractEntry(
                address=a[feed.name], artifact="CommodityFeed", deployed_block=blocks[feed.name], meta=meta
            )
        for symbol in ASSETS:
            entries[f"Asset:{symbol}"] = ContractEntry(
                address=a[f"Asset:{symbol}"],
                artifact="ReserveAsset",
                deployed_block=blocks[f"Asset:{symbol}"],
                meta={"symbol": symbol, "feed": ASSETS[symbol][1]},
            )
        entries["Pool:PT-CASH"] = ContractEntry(
            address=a["Pool:PT-CASH"],
            artifact="UniswapV2Pair",
            deployed_block=blocks["Pool:PT-CASH"],
            meta={"base": "PaymentToken", "quote": "Asset:CASH"},
        )
        entries["PaymentToken"].meta = {"fee_bps": INITIAL_FEE_BPS, "fee_collector": a["Timelock"]}
        entries["Governor"].meta = {
            "voting_delay_blocks": VOTING_DELAY_BLOCKS,
            "voting_period_blocks": VOTING_PERIOD_BLOCKS,
            "quorum_percent": QUORUM_PERCENT,
        }
        entries["Timelock"].meta = {"min_delay_s": TIMELOCK_MIN_DELAY_S}
        entries["FoundationToken"].meta = {
            "sovereigns": {
                "0x" + sovereign_id(i).hex(): {"name": f"SOVEREIGN-{i}", "holder": s.address}
                for i, s in enumerate(role("sovereigns"), start=1)
            }
        }
        roles = {name: [to_checksum_address(acc.address) for acc in role(name)] for name in ROLES}
        return Manifest(
            chain_id=chain_id,
            rpc_url=rpc_url,
            deployed_block=min(blocks.values()),
            contracts=dict(sorted(entries.items())),
            roles=roles,
        )


def _short(value: Any) -> str:
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        return (
            text.decode() if text.isascii() and text.isalnum() is False and text else "0x" + value.hex()[:8]
        )
    return str(value)
