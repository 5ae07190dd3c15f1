"""Thresholds that can fire on the system they watch: amount thresholds of the monitors and the CEL rules
checked against the watched token's total supply and decimals (``fictra config check --chain``).

A threshold above the total supply can never fire (a problem: the check exits 2); a threshold below one
whole token is most likely written in whole tokens where base units are meant (a warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fictra.monitors.config import ConcentrationMonitor, MonitorConfig, TransactionsMonitor
from fictra.rules.config import EventRuleConfig

# a comparison of a decoded amount with a literal: args.value >= 5e22, args.amount > 1000000
_AMOUNT = re.compile(r"args\.(value|amount|wad)\s*(>=|>)\s*([0-9][0-9_]*(?:\.[0-9]+)?(?:[eE]\+?[0-9]+)?)")


@dataclass(frozen=True, slots=True)
class Token:
    """What the chain says about one token contract."""

    name: str
    total_supply: int  # base units
    decimals: int

    def units(self, amount: float) -> str:
        return f"{amount / 10**self.decimals:,.2f}"


@dataclass(frozen=True, slots=True)
class ThresholdReport:
    problems: list[str]
    warnings: list[str]


def _judge(where: str, amount: float, token: Token, problems: list[str], warnings: list[str]) -> None:
    unit = 10**token.decimals
    if amount > token.total_supply:
        problems.append(
            f"{where} = {amount:.0f} base units ({token.units(amount)} {token.name}) is above "
            f"{token.name}'s total supply of {token.units(token.total_supply)} ({token.decimals} decimals): "
            f"it can never fire; lower it (e.g. 10% of the supply is {token.total_supply // 10})"
        )
    elif 0 < amount < unit:
        warnings.append(
            f"{where} = {amount:.0f} base units is less than one whole {token.name} "
            f"({token.decimals} decimals): write base units, e.g. {amount:.0f} tokens is {int(amount) * unit}"
        )


def check_thresholds(
    monitors: Iterable[MonitorConfig], rules: Iterable[EventRuleConfig], tokens: Mapping[str, Token]
) -> ThresholdReport:
    """``tokens`` maps manifest names (``PaymentToken``, ``FoundationToken``) to their supply."""
    problems: list[str] = []
    warnings: list[str] = []
    pt = tokens.get("PaymentToken")
    for monitor in monitors:
        if isinstance(monitor, TransactionsMonitor) and pt is not None:
            limit = monitor.thresholds.max_pt_volume
            if limit is not None:
                where = f"monitor '{monitor.name}' thresholds.max_pt_volume"
                _judge(where, float(limit), pt, problems, warnings)
        if isinstance(monitor, ConcentrationMonitor) and monitor.token in tokens:
            where = f"monitor '{monitor.name}' thresholds.min_amount"
            _judge(where, float(monitor.thresholds.min_amount), tokens[monitor.token], problems, warnings)
    for rule in rules:
        token = tokens.get(rule.contract)
        if token is None or not rule.enabled:
            continue
        for arg, _op, literal in _AMOUNT.findall(rule.condition):
            where = f"rule '{rule.name}' condition args.{arg}"
            _judge(where, float(literal.replace("_", "")), token, problems, warnings)
    return ThresholdReport(problems, warnings)
