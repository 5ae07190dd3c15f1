"""Transaction reports and a filing's generate → review → approve → file through the real app (real users
and tokens, permissions enforced)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import yaml

from api.rig import ApiRig, api_rig
from fictra.compliance.report_models import TransferRow
from fictra.platform.config_set import load_config_set

URL = "/api/v1/compliance"
ALICE, BOB = "0x" + "a0" * 20, "0x" + "b0" * 20


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=["compliance_officer", "viewer", "admin"], alerts=0) as r:
        yield r


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_report_and_filing_workflow(rig: ApiRig) -> None:
    officer, viewer, admin = rig.auth("compliance_officer"), rig.auth("viewer"), rig.auth("admin")
    config_dir = rig.context.settings.config_dir
    now = rig.clock.now()
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    prev = datetime(now.year - (now.month == 1), (now.month - 2) % 12 + 1, 1, tzinfo=UTC)
    period = f"{prev:%Y-%m}"
    path = config_dir / "compliance.yaml"  # the rig's config copy may not have one
    shipped = yaml.safe_load(path.read_text()) if path.exists() else {}
    shipped["filings"] = [
        {
            "name": "fiu-monthly",
            "authority": "FIU",
            "period": "monthly",
            "due_days": 10,
            "template": "fiu.txt.j2",
        }
    ]
    path.write_text(yaml.safe_dump(shipped))
    (config_dir / "fiu.txt.j2").write_text(
        "{{ filing.authority }} {{ filing.period }}: {{ report.totals.PaymentToken.amount }} PT\n"
    )
    rig.context.config = load_config_set(config_dir)  # the filings calendar just configured
    for who, address, country in (("alice", ALICE, "DE"), ("bob", BOB, "SG")):
        put = await rig.client.put(
            f"{URL}/kyc/{who}",
            json={"name": who, "addresses": [address], "status": "approved", "country": country},
            headers=officer,
        )
        assert put.status_code == 200 and put.json()["country"] == country, put.text
    async with rig.sessions.begin() as s:  # what the screening monitor writes (tests/compliance/test_reports)
        s.add(
            TransferRow(
                block_number=5,
                log_index=0,
                tx_hash="0x" + "11" * 32,
                token="PaymentToken",
                sender=ALICE,
                recipient=BOB,
                value=str(250_000 * 10**18),
                at=prev.replace(day=3),
            )
        )
    q = f"{URL}/reports/transactions?from={prev:%Y-%m-%d}&to={first:%Y-%m-%d}"
    assert (await rig.client.get(q, headers=viewer)).status_code == 403
    report = (await rig.client.get(q, headers=officer)).json()
    assert [(x["from_participant"], x["amount"]) for x in report["large_transfers"]] == [("alice", "250000")]
    assert report["countries"] == [{"country": "DE", "token": "PaymentToken", "count": 1, "amount": "250000"}]
    got = await rig.client.get(q + "&format=csv", headers=officer)
    assert got.headers["content-type"].startswith("text/csv")
    assert {r["section"] for r in csv.DictReader(io.StringIO(got.text))} >= {"participant_sent", "large"}
    bad = await rig.client.get(
        f"{URL}/reports/transactions?from={first:%Y-%m-%d}&to={prev:%Y-%m-%d}", headers=officer
    )
    assert bad.status_code == 422 and "period is empty" in bad.text

    made = await rig.client.post(f"{URL}/filings/fiu-monthly/{period}/generate", headers=officer)
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["body"] == f"FIU {period}: 250000 PT\n" and draft["state"] == "generated"
    did = draft["id"]
    reviewed = await rig.client.post(
        f"{URL}/filings/drafts/{did}/review", json={"note": "totals tie out"}, headers=admin
    )
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "reviewed"
    early = await rig.client.post(
        f"{URL}/filings/drafts/{did}/file", json={"reference": "R1"}, headers=officer
    )
    assert early.status_code == 409
    ok = await rig.client.post(f"{URL}/filings/drafts/{did}/approve", headers=officer)
    assert ok.json()["satisfied"] is True
    filed = await rig.client.post(
        f"{URL}/filings/drafts/{did}/file", json={"reference": "FIU-77"}, headers=officer
    )
    assert filed.status_code == 200 and (filed.json()["state"], filed.json()["reference"]) == (
        "filed",
        "FIU-77",
    )
    listed = (await rig.client.get(f"{URL}/filings/drafts", headers=officer)).json()
    assert [(d["id"], d["state"]) for d in listed] == [(did, "filed")]
