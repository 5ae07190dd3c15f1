"""Config-as-code models of the monitor families (``config/monitors/*.yaml``).

Every family is a Pydantic model with ``extra="forbid"``, selected by its ``type`` through a
discriminated union (:data:`MonitorConfig`). Each family carries a ``severity`` model whose defaults
follow the runbook (e.g. all endpoints down P0, node unreachable P1, pause P0, oracle stale P1), a
``confirmations`` count, the contracts it watches by manifest name and its thresholds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fictra.alerting.findings import Severity
from fictra.config.fields import Address, Duration
from fictra.rules.config import EventRuleConfig

P0, P1, P2, P3 = Severity.P0, Severity.P1, Severity.P2, Severity.P3


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MonitorBase(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$", description="Unique name.")
    enabled: bool = Field(default=True, description="Disabled monitors are loaded and checked but not run.")
    description: str = Field(default="", description="What the monitor watches, for humans.")
    confirmations: int = Field(
        default=0, ge=0, le=1000, description="Block confirmations before an alert is confirmed (0: at once)."
    )
    contracts: list[str] = Field(
        default_factory=list, description="Manifest names watched, e.g. 'Feed:BRENT'."
    )
    interval: Duration = Field(
        default=timedelta(seconds=15), description="Polling interval for polled checks."
    )


# --- node_health -------------------------------------------------------------------------------------


class NodeHealthSeverity(Strict):
    unreachable: Severity = Field(default=P1, description="One endpoint does not answer.")
    all_down: Severity = Field(default=P0, description="No endpoint answers.")
    slow_rpc: Severity = P2
    stale_head: Severity = P1
    lagging: Severity = P2
    low_peers: Severity = P3
    syncing: Severity = P2
    wrong_chain: Severity = P0


class NodeHealthThresholds(Strict):
    rpc_latency: Duration = Field(default=timedelta(seconds=2), description="Slow when a call takes longer.")
    head_age: Duration = Field(default=timedelta(seconds=60), description="Stale when the head is older.")
    max_lag_blocks: int = Field(
        default=5, ge=0, description="Lagging when this far behind the best endpoint."
    )
    min_peers: int = Field(default=1, ge=0, description="Too few peers below this (0 disables).")


class NodeHealthMonitor(MonitorBase):
    type: Literal["node_health"]
    endpoints: list[str] = Field(default_factory=list, description="Endpoint names (default: all).")
    severity: NodeHealthSeverity = Field(default_factory=NodeHealthSeverity)
    thresholds: NodeHealthThresholds = Field(default_factory=NodeHealthThresholds)


# --- transactions ------------------------------------------------------------------------------------


class TransactionsSeverity(Strict):
    low_throughput: Severity = P3
    high_throughput: Severity = P2
    slow_confirmation: Severity = P2
    error_rate: Severity = P2
    pt_volume: Severity = P1


class TransactionsThresholds(Strict):
    window: Duration = Field(default=timedelta(minutes=5), description="Rolling window for rates/volumes.")
    min_tx_per_window: int = Field(default=0, ge=0, description="Low throughput below this (0 disables).")
    max_tx_per_window: int | None = Field(default=None, ge=1, description="High throughput above this.")
    max_confirmation_time: Duration = Field(
        default=timedelta(seconds=60), description="Platform-sent tx not mined within this."
    )
    max_error_rate: float = Field(
        default=0.05, ge=0, le=1, description="Reverted share per contract/function."
    )
    min_calls_for_error_rate: int = Field(default=20, ge=1, description="Calls needed before rating errors.")
    max_pt_volume: int | None = Field(default=None, ge=0, description="PT base units moved per window.")


class TransactionsMonitor(MonitorBase):
    type: Literal["transactions"]
    platform_senders: list[Address] = Field(
        default_factory=list, description="Addresses whose txs' confirmation time is tracked."
    )
    severity: TransactionsSeverity = Field(default_factory=TransactionsSeverity)
    thresholds: TransactionsThresholds = Field(default_factory=TransactionsThresholds)


# --- gas ---------------------------------------------------------------------------------------------


class GasSeverity(Strict):
    base_fee: Severity = P2
    priority_fee: Severity = P3
    gas_used_ratio: Severity = P3
    function_gas: Severity = P3
    spike: Severity = P2


class GasThresholds(Strict):
    max_base_fee_gwei: float | None = Field(default=100.0, ge=0)
    max_priority_fee_gwei: float | None = Field(default=20.0, ge=0)
    max_gas_used_ratio: float = Field(default=0.95, gt=0, le=1, description="Block fullness.")
    max_gas_per_function: dict[str, int] = Field(
        default_factory=dict, description="'Contract.function' -> gas used ceiling."
    )
    spike_z: float = Field(default=4.0, gt=0, description="Spike when base fee z-score vs baseline exceeds.")
    baseline_alpha: float = Field(default=0.1, gt=0, lt=1)
    baseline_warmup: int = Field(default=30, ge=1)


class GasMonitor(MonitorBase):
    type: Literal["gas"]
    severity: GasSeverity = Field(default_factory=GasSeverity)
    thresholds: GasThresholds = Field(default_factory=GasThresholds)


# --- contract_status ---------------------------------------------------------------------------------


class ContractStatusSeverity(Strict):
    paused: Severity = P0
    trading_halted: Severity = P0
    code_changed: Severity = P0
    implementation_changed: Severity = P0
    unauthorized_role_grant: Severity = P0
    role_granted: Severity = P2
    role_revoked: Severity = P2
    admin_changed: Severity = P0
    reserve_breach: Severity = P0


class ContractStatusThresholds(Strict):
    min_collateral_ratio: float | None = Field(
        default=1.0, gt=0, description="Reserve value / PT supply below this is a breach."
    )


class ContractStatusMonitor(MonitorBase):
    type: Literal["contract_status"]
    authorized_accounts: list[Address] = Field(
        default_factory=list,
        description="Role grants to anyone else are unauthorized (manifest roles count).",
    )
    severity: ContractStatusSeverity = Field(default_factory=ContractStatusSeverity)
    thresholds: ContractStatusThresholds = Field(default_factory=ContractStatusThresholds)


# --- oracle ------------------------------------------------------------------------------------------


class OracleSeverity(Strict):
    stale: Severity = P1
    out_of_bounds: Severity = P1
    node_deviation: Severity = P2
    round_jump: Severity = P2
    answered_in_round: Severity = P1
    node_missing: Severity = P2


class FeedBounds(Strict):
    min: float | None = None
    max: float | None = None


class OracleThresholds(Strict):
    heartbeat: Duration | None = Field(default=None, description="Default: the feed's manifest heartbeat.")
    staleness_grace: Duration = Field(default=timedelta(seconds=60), description="Extra time past heartbeat.")
    bounds: dict[str, FeedBounds] = Field(default_factory=dict, description="Feed name -> answer bounds.")
    max_node_deviation_pct: float = Field(default=2.0, gt=0, description="A node's answer vs round median.")
    max_round_jump_pct: float = Field(default=5.0, gt=0, description="Answer change between rounds.")
    missed_rounds: int = Field(default=3, ge=1, description="Rounds a node may miss in a row.")


class OracleMonitor(MonitorBase):
    type: Literal["oracle"]
    severity: OracleSeverity = Field(default_factory=OracleSeverity)
    thresholds: OracleThresholds = Field(default_factory=OracleThresholds)


# --- concentration -----------------------------------------------------------------------------------


class ConcentrationThresholds(Strict):
    window: Duration = Field(default=timedelta(minutes=5), description="Rolling window (block time).")
    min_amount: int = Field(
        default=200_000 * 10**18, ge=1, description="Base units received within the window (18 decimals)."
    )
    min_senders: int = Field(default=2, ge=1, description="Distinct senders needed (one sender: a transfer).")


class ConcentrationMonitor(MonitorBase):
    type: Literal["concentration"]
    token: str = Field(default="PaymentToken", description="Manifest name of the watched token.")
    known_accounts: list[Address] = Field(
        default_factory=list, description="Receivers never reported (manifest roles and contracts count)."
    )
    severity: Severity = P1
    thresholds: ConcentrationThresholds = Field(default_factory=ConcentrationThresholds)


# --- anomaly -----------------------------------------------------------------------------------------


class AnomalyMonitor(MonitorBase):
    type: Literal["anomaly"]
    metric: Literal[
        "tx_count", "gas_used_ratio", "base_fee", "pt_transfer_volume", "event_count", "error_rate"
    ]
    series_by: Literal["network", "contract", "function"] = Field(
        default="network", description="One baseline per network, per contract or per function."
    )
    severity: Severity = P2
    alpha: float = Field(default=0.1, gt=0, lt=1, description="EWMA smoothing factor.")
    warmup: int = Field(default=30, ge=1, description="Samples before the baseline may fire.")
    z_threshold: float = Field(default=4.0, gt=0, description="Fires when |z| exceeds this.")
    clear_z: float = Field(default=2.0, ge=0, description="Clears when |z| falls back within this.")
    min_std: float = Field(default=1e-9, ge=0, description="Floor on the std-dev (flat series).")
    winsor_z: float | None = Field(
        default=None,
        gt=0,
        description="Values are learned clipped to mean ± winsor_z·std (default z_threshold).",
    )
    clear_after: int = Field(
        default=3, ge=1, description="Samples in a row within clear_z before a firing baseline clears."
    )
    rewarm: int | None = Field(
        default=None,
        ge=1,
        description="Samples learned without firing after a pause (default warmup/3, min 3).",
    )
    idle_after: int | None = Field(
        default=None, ge=1, description="Identical samples in a row that make a pause (default warmup)."
    )
    pause_after: timedelta = Field(
        default=timedelta(minutes=10), description="A gap in block time longer than this is a pause."
    )

    @model_validator(mode="after")
    def _band(self) -> AnomalyMonitor:
        if self.clear_z >= self.z_threshold:
            raise ValueError(f"clear_z ({self.clear_z}) must be below z_threshold ({self.z_threshold})")
        return self


MonitorConfig = Annotated[
    NodeHealthMonitor
    | TransactionsMonitor
    | GasMonitor
    | ContractStatusMonitor
    | OracleMonitor
    | AnomalyMonitor
    | ConcentrationMonitor
    | EventRuleConfig,
    Field(discriminator="type"),
]

MONITOR_TYPES: tuple[type[BaseModel], ...] = (
    NodeHealthMonitor,
    TransactionsMonitor,
    GasMonitor,
    ContractStatusMonitor,
    OracleMonitor,
    AnomalyMonitor,
    ConcentrationMonitor,
    EventRuleConfig,
)
