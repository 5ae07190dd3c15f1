"""The compliance API through the real app (real users and tokens): a list imported by the compliance
officer (viewer refused), a malformed upload refused naming the line with the version in force unchanged,
a hit on a KYC'd participant's address dispositioned, KYC records by PUT and CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.rig import ApiRig, api_rig
from compliance.helpers import FIXTURES, LISTED

ROLES = ["compliance_officer", "viewer", "legal"]
URL = "/api/v1/compliance"


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=ROLES, alerts=0) as r:
        yield r


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage is covered in test_lists
async def test_lists_hits_and_kyc(rig: ApiRig) -> None:
    officer, viewer, legal = rig.auth("compliance_officer"), rig.auth("viewer"), rig.auth("legal")
    put = await rig.client.put(
        f"{URL}/kyc/bank-z",
        json={
            "name": "Zeta Clearing",
            "addresses": [LISTED.upper().replace("0X", "0x")],
            "status": "approved",
        },
        headers=officer,
    )
    assert put.status_code == 200, put.text
    v1 = (FIXTURES / "sdn_advanced_v1.xml").read_bytes()
    path = f"{URL}/lists/ofac-sdn/import?format=ofac_sdn_xml&file_name=sdn_advanced_v1.xml"
    assert (await rig.client.post(path, content=v1, headers=viewer)).status_code == 403
    made = await rig.client.post(path, content=v1, headers=officer)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["diff"] == {"added": 2, "removed": 0, "changed": 0} and len(body["rescreen"]["opened"]) == 1

    bad = (FIXTURES / "sdn_truncated.xml").read_bytes()
    refused = await rig.client.post(
        f"{URL}/lists/ofac-sdn/import?format=ofac_sdn_xml&file_name=sdn_truncated.xml",
        content=bad,
        headers=officer,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"].startswith("sdn_truncated.xml:61: not well-formed XML")
    versions = (await rig.client.get(f"{URL}/lists", headers=legal)).json()
    assert [(v["version"], v["superseded_at"]) for v in versions] == [(1, None)]
    detail = (await rig.client.get(f"{URL}/lists/ofac-sdn/versions/0", headers=legal)).json()
    assert sorted(d["key"] for d in detail["diff"]["added"]) == ["41001", "41002"]

    hits = (await rig.client.get(f"{URL}/hits", headers=legal)).json()
    assert [(h["subject"], h["entry_key"]) for h in hits] == [(LISTED, "41001")]
    hid = hits[0]["id"]
    assert (
        await rig.client.post(f"{URL}/hits/{hid}/dispose", json={"reason": "ours"}, headers=legal)
    ).status_code == 403
    done = await rig.client.post(
        f"{URL}/hits/{hid}/dispose", json={"reason": "our own test wallet"}, headers=officer
    )
    assert done.status_code == 200 and done.json()["state"] == "false_positive"
    again = await rig.client.post(f"{URL}/rescreen", headers=officer)
    assert again.json()["opened"] == []  # suppressed for version 1

    csv = (FIXTURES / "kyc.csv").read_bytes()
    imported = await rig.client.post(f"{URL}/kyc/import", content=csv, headers=officer)
    assert imported.status_code == 200 and [r["participant"] for r in imported.json()] == ["bank-a", "bank-b"]
    broken = await rig.client.post(
        f"{URL}/kyc/import", content=csv.replace(b",low,", b",huge,"), headers=officer
    )
    assert broken.status_code == 422 and "upload.csv:2: risk_rating 'huge'" in broken.text
    records = (await rig.client.get(f"{URL}/kyc", headers=legal)).json()
    assert [r["participant"] for r in records] == ["bank-a", "bank-b", "bank-z"]

    # the console: hits, list versions and KYC on /compliance, a version's diff on its own page
    browser = await rig.session_headers("compliance_officer")
    html = (await rig.client.get("/compliance?state=all", headers=browser)).text
    assert f'data-hit-id="{hid}" data-state="false_positive"' in html and "our own test wallet" in html
    assert 'data-list="ofac-sdn" data-version="1"' in html and 'data-participant="bank-z"' in html
    diff_page = await rig.client.get("/compliance/lists/ofac-sdn/1", headers=browser)
    assert diff_page.status_code == 200 and 'data-key="41002"' in diff_page.text
    viewer_page = await rig.client.get("/compliance", headers=await rig.session_headers("viewer"))
    assert viewer_page.status_code == 403

    # version 2 still lists the entry: the pair is raised again (the disposition was for version 1); a case
    # → SAR → the officer's and legal's approvals → filed → the PDF
    v2 = (FIXTURES / "sdn_advanced_v2.xml").read_bytes()
    made = await rig.client.post(
        f"{URL}/lists/ofac-sdn/import?format=ofac_sdn_xml", content=v2, headers=officer
    )
    assert made.status_code == 201 and len(made.json()["rescreen"]["opened"]) == 1
    case = await rig.client.post(f"{URL}/cases", json={"subject": LISTED}, headers=officer)
    assert case.status_code == 201, case.text
    cid = case.json()["id"]
    narrative = {"narrative": "Settlement address of bank-z is listed (LAZARUS TEST GROUP, version 2)."}
    sar = (await rig.client.post(f"{URL}/cases/{cid}/sars", json=narrative, headers=officer)).json()
    assert (await rig.client.post(f"{URL}/sars/{sar['id']}/approve", headers=viewer)).status_code == 403
    first = (await rig.client.post(f"{URL}/sars/{sar['id']}/approve", headers=officer)).json()
    assert first["satisfied"] is False and "legal" in first["missing"]
    second = (await rig.client.post(f"{URL}/sars/{sar['id']}/approve", headers=legal)).json()
    assert second["satisfied"] is True
    filed = await rig.client.post(
        f"{URL}/sars/{sar['id']}/file", json={"reference": "FIU-77"}, headers=officer
    )
    assert filed.status_code == 200 and filed.json()["state"] == "filed"
    pdf = await rig.client.get(f"{URL}/sars/{sar['id']}/report?format=pdf", headers=legal)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    closed = await rig.client.post(
        f"{URL}/cases/{cid}/state", json={"state": "closed", "resolution": "reported"}, headers=officer
    )
    assert closed.status_code == 200 and closed.json()["resolution"] == "reported"
    html = (await rig.client.get("/compliance", headers=browser)).text
    assert f'data-case-id="{cid}" data-state="closed"' in html
