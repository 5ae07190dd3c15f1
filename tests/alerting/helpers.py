"""Finding builders for the alert store tests."""

from __future__ import annotations

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity


def finding(
    *,
    monitor: str = "large-transfer",
    subject: str = "0xabc",
    severity: Severity = Severity.P1,
    block: int | None = 100,
    confirmations: int = 0,
    network: str = "devnet",
    value: int = 1,
) -> Finding:
    return Finding(
        monitor=monitor,
        severity=severity,
        summary=f"{monitor} on {subject}: {value}",
        labels={"subject": subject, "team": "ops"},
        network=network,
        block=BlockRef(block, f"0x{block:064x}") if block is not None else None,
        tx_hashes=(f"0x{value:064x}",),
        evidence={"observed": value, "expected": "< 10", "raw": b"\x01\x02"},
        confirmations=confirmations,
    )


def clear(*, monitor: str = "large-transfer", subject: str = "0xabc", block: int | None = None) -> Clear:
    return Clear(
        monitor=monitor,
        labels={"subject": subject, "team": "ops"},
        block=BlockRef(block, f"0x{block:064x}") if block is not None else None,
    )
