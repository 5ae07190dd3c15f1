"""The one fee formula and gas-limit rule of every transaction the platform sends.

:class:`FeePolicy` is a Pydantic model, so a domain can carry it in its config section; its defaults
are what the emergency runner has always done:

- priority fee (tip): ``priority_fee_gwei`` when set, else the node's ``eth_maxPriorityFeePerGas``,
  else ``fallback_priority_fee_gwei`` (1 gwei); never below 1 wei;
- max fee per gas: ``base fee of the latest block × max_fee_multiplier + tip`` (EIP-1559, type 2);
  with ``legacy`` the same number is the ``gasPrice`` of a type-0 transaction;
- gas limit: ``estimate × gas_limit_multiplier + gas_limit_extra``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GWEI", "FeePolicy", "Fees"]

GWEI = 10**9


@dataclass(frozen=True)
class Fees:
    """The fee fields of one transaction (wei)."""

    max_fee: int
    priority_fee: int
    legacy: bool = False

    def fields(self) -> dict[str, Any]:
        """The transaction dict's fee fields (only ``gasPrice`` when legacy: a type-0 transaction)."""
        if self.legacy:
            return {"gasPrice": self.max_fee}
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.priority_fee, "type": 2}


class FeePolicy(BaseModel):
    """How fees and gas limits are chosen (see the module docstring for the formula)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_fee_multiplier: float = Field(
        2.0, ge=1.0, description="Max fee per gas = latest base fee × this + the priority fee."
    )
    priority_fee_gwei: float | None = Field(
        None, ge=0, description="A fixed priority fee (gwei); unset: ask the node (eth_maxPriorityFeePerGas)."
    )
    fallback_priority_fee_gwei: float = Field(
        1.0, ge=0, description="Priority fee (gwei) when unset and the node does not suggest one."
    )
    legacy: bool = Field(False, description="Send type-0 transactions with gasPrice = the max fee.")
    gas_limit_multiplier: float = Field(1.5, ge=1.0, description="Gas limit = estimate × this + extra.")
    gas_limit_extra: int = Field(25_000, ge=0, description="Gas added to every limit after the multiplier.")

    @property
    def asks_node_for_tip(self) -> bool:
        return self.priority_fee_gwei is None

    def fees(self, *, base_fee: int, node_tip: int | None = None) -> Fees:
        """The fees for a block whose base fee is ``base_fee`` (``node_tip``: the node's suggestion)."""
        if self.priority_fee_gwei is not None:
            tip = int(self.priority_fee_gwei * GWEI)
        elif node_tip is not None:
            tip = node_tip
        else:
            tip = int(self.fallback_priority_fee_gwei * GWEI)
        tip = max(tip, 1)
        return Fees(
            max_fee=int(base_fee * self.max_fee_multiplier) + tip, priority_fee=tip, legacy=self.legacy
        )

    def gas_limit(self, estimate: int) -> int:
        """The gas limit for an ``eth_estimateGas`` answer (or a dry run's gas)."""
        return int(estimate * self.gas_limit_multiplier) + self.gas_limit_extra
