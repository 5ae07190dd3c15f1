"""The ``event_rule`` family: CEL conditions over decoded events or transactions (``config/rules/*.yaml``).

A rule watches one contract (by manifest name) and either one ``event`` (matched on its topic0) or one
``function`` (matched on the call's selector). Its ``condition`` sees ``event``/``function``,
``contract``, ``address``, ``args``, ``tx``, ``block``, ``network``, ``params`` (the rule's own
values, e.g. allow-lists) and ``known`` (every address in the deployment manifest).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fictra.alerting.findings import Severity
from fictra.rules.cel import (
    TEMPLATE_FILTERS,
    TEMPLATE_ROOTS,
    CelCompileError,
    compile_expression,
    template_fields,
    template_filters,
)


class EventRuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["event_rule"] = "event_rule"
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$", description="Unique name.")
    enabled: bool = Field(default=True, description="Disabled rules are checked but not evaluated.")
    description: str = Field(default="", description="What the rule detects, for humans.")
    contract: str = Field(
        min_length=1, description="Manifest name of the watched contract, e.g. 'PaymentToken'."
    )
    event: str | None = Field(default=None, description="Event name (ABI) to match; or give `function`.")
    function: str | None = Field(default=None, description="Function name (ABI) of txs to match.")
    condition: str = Field(default="true", description="CEL expression; the rule fires when it is true.")
    severity: Severity = Field(default=Severity.P2, description="Severity of the alert.")
    confirmations: int = Field(
        default=0, ge=0, le=1000, description="Confirmations before the alert is confirmed."
    )
    resolve_after_blocks: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description=(
            "Informational events: the rule's alert resolves by itself this many blocks after its last "
            "occurrence (a new occurrence fires it again). Unset: a one-off finding that stays firing "
            "until an operator resolves it."
        ),
    )
    notify_repeats: bool | None = Field(
        default=None,
        description=(
            "Tell the receivers again when the event happens again while its alert is still firing (a "
            "second pauseAll): each new occurrence is one notification with its block and evidence; the "
            "acknowledgement deadline is not restarted. Unset: true for P0 and P1 rules, false otherwise."
        ),
    )
    summary: str = Field(
        default="{rule}: {event} on {contract}",
        description=(
            "Template; {args.value}, {tx.from}, {block.number}... are filled in. Filters: "
            "{args.value|units:18} (base units as whole tokens), {args.to|short} (0x1234…abcd)."
        ),
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels (part of the fingerprint)."
    )
    label_args: list[str] = Field(
        default_factory=list, description="Decoded args whose values become labels (one alert per value)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Values the condition reads as `params`."
    )

    @field_validator("condition")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_expression(value)
        except CelCompileError as exc:
            raise ValueError(f"invalid CEL expression {value!r}: {exc}") from None
        return value

    @field_validator("summary")
    @classmethod
    def _template(cls, value: str) -> str:
        for path in template_fields(value):
            if path.split(".")[0] not in TEMPLATE_ROOTS:
                roots = ", ".join(sorted(TEMPLATE_ROOTS))
                raise ValueError(f"template field '{{{path}}}' must start with one of: {roots}")
        for name in template_filters(value):
            if name not in TEMPLATE_FILTERS:
                known = ", ".join(TEMPLATE_FILTERS)
                raise ValueError(f"template filter '|{name}' is unknown; use one of: {known}")
        return value

    @model_validator(mode="after")
    def _event_or_function(self) -> EventRuleConfig:
        if (self.event is None) == (self.function is None):
            raise ValueError("give exactly one of `event` or `function`")
        return self

    @property
    def repeats_notify(self) -> bool:
        """``notify_repeats``, or by default whether the rule is critical (P0/P1)."""
        if self.notify_repeats is not None:
            return self.notify_repeats
        return self.severity in (Severity.P0, Severity.P1)

    @property
    def kind(self) -> Literal["event", "function"]:
        return "event" if self.event is not None else "function"

    @property
    def target(self) -> str:
        return self.event if self.event is not None else str(self.function)
