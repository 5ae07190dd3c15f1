"""Evidence and timeline as the alert page shows them: observed values next to what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fictra.alerting.schemas import AlertDetail
from fictra.web.templating import as_text

EXPECTED_WORDS = ("expected", "threshold", "limit", "baseline", "max", "min")


@dataclass(frozen=True)
class EvidenceRow:
    field: str
    observed: str
    expected: str | None


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    who: str | None
    text: str | None


AMOUNT_WORDS = ("value", "amount", "total", "supply", "threshold", "volume", "balance", "wad", "reserve")
TOKEN_DECIMALS = 18  # PT, FT and the reserve assets of the deployment
MIN_BASE_UNITS = 10**12  # below this an integer is a count, a block or a timestamp, not a token amount


def in_units(key: str, value: Any) -> str | None:
    """A token amount in base units shown in whole tokens (``1,140,000.00 (1140000000000000000000000 base
    units)``); None when ``value`` does not look like one (the key names an amount and it is that large)."""
    name = key.rsplit(".", 1)[-1].lower()
    if isinstance(value, bool) or not any(w in name for w in AMOUNT_WORDS):
        return None
    if isinstance(value, str) and value.isdigit():
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        return None
    if number < MIN_BASE_UNITS:
        return None
    return f"{number / 10**TOKEN_DECIMALS:,.2f} ({number} base units)"


def _shown(key: str, value: Any) -> str:
    return in_units(key, value) or as_text(value)


def _flatten(evidence: dict[str, Any]) -> dict[str, Any]:
    """Nested mappings (an event's ``args``) become ``args.value`` rows; lists and observed/expected pairs
    stay whole."""
    flat: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, dict) and value and "observed" not in value:
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    return flat


def value_rows(value: Any) -> list[tuple[str, str]]:
    """A mapping or list (a dry run's observed state, its extra fields) as (key, shown) table rows: nested
    mappings flattened to ``a.b``, token amounts in units, lists one row per item."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, inner in value.items():
            if isinstance(inner, dict) and inner:
                rows += [(f"{key}.{k}", v) for k, v in value_rows(inner)]
            else:
                rows.append((str(key), _shown(str(key), inner)))
        return rows
    if isinstance(value, list | tuple):
        return [(str(i), as_text(v)) for i, v in enumerate(value)]
    return [("", as_text(value))]


def evidence_rows(evidence: dict[str, Any]) -> list[EvidenceRow]:
    """One row per evidence field; an ``observed*`` field is paired with its ``expected*``/``threshold*``
    counterpart (``observed_s`` with ``threshold_s``), and ``{"observed": .., "expected": ..}`` values
    are split into both columns."""
    evidence = _flatten(evidence)
    used: set[str] = set()
    rows: list[EvidenceRow] = []
    for key, value in evidence.items():
        if key in used:
            continue
        if isinstance(value, dict) and "observed" in value and any(w in value for w in EXPECTED_WORDS):
            word = next(w for w in EXPECTED_WORDS if w in value)
            rows.append(
                EvidenceRow(key, _shown(key, value["observed"]), f"{word} {_shown(key, value[word])}")
            )
            continue
        if "observed" in key:
            partner = next(
                (
                    key.replace("observed", w)
                    for w in EXPECTED_WORDS
                    if key.replace("observed", w) in evidence
                ),
                None,
            )
            if partner is not None:
                used.add(partner)
                rows.append(
                    EvidenceRow(key, _shown(key, value), f"{partner} {_shown(partner, evidence[partner])}")
                )
                continue
        rows.append(EvidenceRow(key, _shown(key, value), None))
    return rows


def timeline(alert: AlertDetail) -> list[TimelineItem]:
    """The alert's events, oldest first, with who did it and what they wrote (notes, reasons)."""
    items = []
    for event in alert.events:
        details = event.details or {}
        who = details.get("by") or details.get("actor")
        parts = [
            f"to {details['to']}" if details.get("to") else None,  # assigned
            f"level {details['level']}" if details.get("level") else None,  # escalated
            f"notified {', '.join(map(str, details['people']))}" if details.get("people") else None,
            f"until {details['until']}" if details.get("until") else None,  # snoozed
            details.get("text") or details.get("note") or details.get("reason"),
        ]
        text = " · ".join(str(p) for p in parts if p)
        items.append(
            TimelineItem(
                at=event.at,
                kind=event.kind,
                who=str(who) if who else None,
                text=str(text) if text else None,
            )
        )
    return items
