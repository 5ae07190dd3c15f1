"""The console's pure parts: area health, evidence rows, countdown text, safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from fictra.alerting.schemas import AlertView
from fictra.web.access import safe_next
from fictra.web.evidence import evidence_rows
from fictra.web.health import area_health, area_of, monitor_areas
from fictra.web.templating import changes, countdown, short_hash, when

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HEALTHY = {"endpoints": [{"state": "healthy"}, {"state": "healthy"}], "lag": 0}


def alert(
    monitor: str, severity: str, *, status: str = "firing", confirmation: str = "confirmed"
) -> AlertView:
    return AlertView(
        id=1, network="devnet", fingerprint="f" * 32, monitor=monitor, severity=severity, status=status,
        confirmation=confirmation, required_confirmations=0, summary=f"{monitor} {severity}", labels={},
        evidence={}, block_number=None, block_hash=None, tx_hashes=[], count=1, first_seen=T0, last_seen=T0,
        fired_at=T0, resolved_at=None, ack_deadline=T0, acknowledged_at=None, acknowledged_by=None,
        retraction_reason=None,
    )  # fmt: skip


def states(alerts: list[AlertView], status: dict[str, object] = HEALTHY) -> dict[str, str]:
    areas = monitor_areas(
        [
            SimpleNamespace(name="gas-market", type="gas"),
            SimpleNamespace(name="contract-status", type="contract_status"),
        ],
        [SimpleNamespace(name="pt-fee-changed")],
    )
    return {h.area: h.state for h in area_health(firing=alerts, areas=areas, status=status)}


def test_area_health_red_for_p0_p1_amber_for_p2_p3() -> None:
    assert set(states([]).values()) == {"green"}
    got = states([alert("contract-status", "P0"), alert("gas-market", "P3"), alert("pt-fee-changed", "P2")])
    assert got == {
        "nodes": "green",
        "transactions": "green",
        "gas": "amber",
        "contracts": "red",
        "oracles": "green",
    }


def test_resolved_and_retracted_alerts_do_not_count() -> None:
    got = states(
        [alert("gas-market", "P0", status="resolved"), alert("gas-market", "P0", confirmation="retracted")]
    )
    assert got["gas"] == "green"


def test_platform_status_colours_nodes_and_transactions() -> None:
    assert states([], {"endpoints": [{"state": "down"}], "lag": 0})["nodes"] == "red"
    assert (
        states([], {"endpoints": [{"state": "healthy"}, {"state": "degraded"}], "lag": 0})["nodes"] == "amber"
    )
    assert states([], {"endpoints": [{"state": "healthy"}], "lag": 50})["transactions"] == "amber"
    assert states([], {})["nodes"] == "green"  # no status at all: nothing to judge (the page says so)


def test_unknown_monitors_are_placed_by_name_or_not_at_all() -> None:
    assert area_of("rpc-health", {}) == "nodes"
    assert area_of("commodity-oracles", {}) == "oracles"
    assert area_of("tx-activity", {}) == "transactions"
    assert area_of("access-attempts", {}) is None


def test_evidence_pairs_observed_with_expected() -> None:
    rows = evidence_rows(
        {"observed": 900000, "threshold": 500000, "observed_s": 40, "threshold_s": 12, "sender": "0xab",
         "price": {"observed": 101.5, "expected": 100.0}}
    )  # fmt: skip
    as_tuples = [(r.field, r.observed, r.expected) for r in rows]
    assert ("observed", "900000", "threshold 500000") in as_tuples
    assert ("observed_s", "40", "threshold_s 12") in as_tuples
    assert ("sender", "0xab", None) in as_tuples
    assert ("price", "101.5", "expected 100.0") in as_tuples
    assert len(rows) == 4


def test_countdown_text() -> None:
    assert countdown(T0 + timedelta(minutes=12, seconds=3), T0) == "12m 03s"
    assert countdown(T0 + timedelta(hours=3, minutes=5), T0) == "3h 05m"
    assert countdown(T0 - timedelta(minutes=4, seconds=10), T0) == "overdue 4m 10s"
    assert countdown(None, T0) == "-"


def test_short_hash_and_safe_next() -> None:
    assert short_hash("0x" + "ab" * 32) == "0xabababab…abab"
    assert short_hash("0x12") == "0x12" and short_hash(None) == "-"
    assert safe_next("/alerts?x=1") == "/alerts?x=1"
    for bad in ("//evil", "http://evil", "", None, "/\\evil", "alerts"):
        assert safe_next(bad) == "/"


def test_audit_changes_show_only_what_differs() -> None:
    before = {"status": "firing", "acknowledged_by": None}
    after = {"status": "firing", "acknowledged_by": "lead", "note": "x"}
    assert changes(before, after) == [("acknowledged_by", "None", "lead"), ("note", "-", "x")]
    assert changes(None, after) == []  # a creation: the template shows the whole "after"


def test_when_is_always_dated() -> None:
    assert (
        when(T0 + timedelta(hours=16, minutes=43, seconds=20), T0 + timedelta(hours=20))
        == "2026-01-01 16:43:20"
    )
    assert when(T0 - timedelta(hours=1), T0 + timedelta(hours=1)) == "2025-12-31 23:00:00"
    assert when(None, T0) == "-"


def test_block_page_warns_when_the_alerts_block_was_reorged_out() -> None:
    from fictra.auth.actor import SYSTEM
    from fictra.web.templating import render

    block = SimpleNamespace(
        hash="0x" + "b" * 64, parent_hash="0x" + "a" * 64, timestamp=1_767_225_600, gas_used=1, gas_limit=2,
        base_fee_per_gas=7, miner="0x" + "0" * 40, txs=(),
    )  # fmt: skip

    def page(expected: str | None) -> str:
        return render(
            "block.html", actor=SYSTEM, csrf="t", now=T0, page="alerts", number=5, block=block, problem=None,
            expected=expected, alerts=[], highlight=set(),
        )  # fmt: skip

    assert 'id="reorged"' in page("0x" + "c" * 64)
    assert 'id="reorged"' not in page("0x" + "b" * 64)
    assert 'id="reorged"' not in page(None)
    assert "2026-01-01 00:00:00 UTC" in page(None)


def test_evidence_amounts_are_shown_in_token_units_and_args_as_rows() -> None:
    from fictra.web.evidence import evidence_rows

    rows = {
        r.field: r
        for r in evidence_rows(
            {
                "reserve_value": "3292848000000000000000000",
                "args": {"value": 5 * 10**22, "to": "0x11"},
                "block_number": 12,
                "observed_ratio": 0.5,
            }
        )
    }
    assert rows["reserve_value"].observed == "3,292,848.00 (3292848000000000000000000 base units)"
    assert rows["args.value"].observed == "50,000.00 (50000000000000000000000 base units)"
    assert rows["args.to"].observed == "0x11" and rows["block_number"].observed == "12"
    assert rows["observed_ratio"].observed == "0.5"


def test_dry_run_values_render_as_table_rows_with_units() -> None:
    from fictra.web.evidence import value_rows

    rows = value_rows(
        {"paused": {"PaymentToken": True}, "supply": str(2_200_000 * 10**18), "targets": ["a", "b"]}
    )
    assert rows == [
        ("paused.PaymentToken", "True"),
        ("supply", "2,200,000.00 (2200000000000000000000000 base units)"),
        ("targets", "a, b"),
    ]
