"""Transaction reports per period, from the transfers the screening monitor saw (``compliance_transfers``).

A report covers ``[start, end)`` (block time): volumes per participant (addresses mapped to participants by
their KYC records; addresses no record names are summed as ``unattributed``), the large transfers (at or
above ``aml.large_amount`` whole tokens) and volumes by country code (the sending participant's KYC
``country``; ``??`` when unknown). Amounts are whole tokens (``aml.decimals``) as decimal strings, per token.
Rendered as JSON (:func:`transaction_report`) or CSV (:func:`report_csv`).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.compliance.config import ComplianceConfig
from fictra.compliance.models import KycRecord
from fictra.compliance.report_models import TransferRow
from fictra.errors import UsageError

__all__ = ["UNATTRIBUTED", "UNKNOWN_COUNTRY", "report_csv", "transaction_report"]

UNATTRIBUTED, UNKNOWN_COUNTRY = "unattributed", "??"
CSV_COLUMNS = ("section", "key", "token", "country", "count", "amount", "detail")


def _tokens(value: int, decimals: int) -> Decimal:
    return Decimal(value).scaleb(-decimals)


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d else "0"


async def transaction_report(
    session: AsyncSession, *, config: ComplianceConfig, start: datetime, end: datetime
) -> dict[str, Any]:
    """The report of the transfers with block time in ``[start, end)``."""
    if end <= start:
        raise UsageError(f"The report's period is empty: --to ({end:%Y-%m-%d}) must be after --from.")
    decimals, large = config.aml.decimals, Decimal(str(config.aml.large_amount))
    owner: dict[str, tuple[str, str]] = {}  # address -> (participant, country)
    for rec in (await session.scalars(select(KycRecord))).all():
        for a in rec.addresses:
            owner[a.lower()] = (rec.participant, rec.country or UNKNOWN_COUNTRY)
    rows = (
        await session.scalars(
            select(TransferRow)
            .where(TransferRow.at >= start, TransferRow.at < end)
            .order_by(TransferRow.block_number, TransferRow.log_index)
        )
    ).all()
    zero = Decimal(0)
    parts: dict[tuple[str, str], dict[str, Any]] = {}
    countries: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": zero})
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": zero})
    large_rows: list[dict[str, Any]] = []

    def part(address: str, token: str) -> dict[str, Any]:
        who, country = owner.get(address, (UNATTRIBUTED, UNKNOWN_COUNTRY))
        return parts.setdefault(
            (who, token),
            {"country": country, "sent_count": 0, "sent": zero, "received_count": 0, "received": zero},
        )

    for r in rows:
        amount = _tokens(int(r.value), decimals)
        totals[r.token]["count"] += 1
        totals[r.token]["amount"] += amount
        s, d = part(r.sender, r.token), part(r.recipient, r.token)
        s["sent_count"] += 1
        s["sent"] += amount
        d["received_count"] += 1
        d["received"] += amount
        c = countries[(owner.get(r.sender, ("", UNKNOWN_COUNTRY))[1], r.token)]
        c["count"] += 1
        c["amount"] += amount
        if amount >= large:
            large_rows.append(
                {
                    "block": r.block_number,
                    "tx": r.tx_hash,
                    "at": r.at.isoformat(),
                    "token": r.token,
                    "from": r.sender,
                    "to": r.recipient,
                    "from_participant": owner.get(r.sender, (UNATTRIBUTED, ""))[0],
                    "to_participant": owner.get(r.recipient, (UNATTRIBUTED, ""))[0],
                    "amount": _fmt(amount),
                }
            )
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "large_threshold": _fmt(large),
        "totals": {t: {"count": v["count"], "amount": _fmt(v["amount"])} for t, v in sorted(totals.items())},
        "participants": [
            {
                "participant": who,
                "token": token,
                "country": v["country"],
                "sent_count": v["sent_count"],
                "sent": _fmt(v["sent"]),
                "received_count": v["received_count"],
                "received": _fmt(v["received"]),
            }
            for (who, token), v in sorted(parts.items(), key=lambda kv: (kv[0][0] == UNATTRIBUTED, kv[0]))
        ],
        "large_transfers": large_rows,
        "countries": [
            {"country": c, "token": t, "count": v["count"], "amount": _fmt(v["amount"])}
            for (c, t), v in sorted(countries.items())
        ],
    }


def report_csv(report: dict[str, Any]) -> str:
    """One CSV of the report's sections (``section`` column: participant, large, country, total)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for p in report["participants"]:
        w.writerow(
            ("participant_sent", p["participant"], p["token"], p["country"], p["sent_count"], p["sent"], "")
        )
        w.writerow(
            (
                "participant_received",
                p["participant"],
                p["token"],
                p["country"],
                p["received_count"],
                p["received"],
                "",
            )
        )
    for x in report["large_transfers"]:
        detail = f"{x['from']}->{x['to']} tx {x['tx']} block {x['block']} at {x['at']}"
        w.writerow(
            (
                "large",
                f"{x['from_participant']}->{x['to_participant']}",
                x["token"],
                "",
                1,
                x["amount"],
                detail,
            )
        )
    for c in report["countries"]:
        w.writerow(("country", c["country"], c["token"], c["country"], c["count"], c["amount"], ""))
    for token, v in report["totals"].items():
        w.writerow(("total", token, token, "", v["count"], v["amount"], ""))
    return buf.getvalue()
