"""The audit API through the real app: entries with filters and paging, verify, checkpoints, proofs."""

from __future__ import annotations

from sqlalchemy import text

from api.rig import ApiRig, api_rig
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.service import count_entries, record
from fictra.audit.signing import load_signer


async def test_audit_api(database_url: str) -> None:
    async with api_rig(database_url, roles=["compliance_officer", "legal", "viewer"], alerts=0) as rig:
        base = await _count(rig)
        async with rig.sessions.begin() as session:
            for i in range(5):
                await record(
                    session,
                    actor="alice",
                    action="alert.acknowledge" if i % 2 else "silence.create",
                    target=f"alert:{i}",
                    after={"i": i},
                    clock=rig.clock,
                )
        get = rig.client.get
        co, legal, viewer = rig.auth("compliance_officer"), rig.auth("legal"), rig.auth("viewer")
        page = (await get("/api/v1/audit/entries?limit=2&actor=alice", headers=legal)).json()
        assert [e["index"] for e in page["entries"]] == [base + 4, base + 3]
        assert page["total"] == base + 5 and page["next_before"] == base + 3
        older = (
            await get(f"/api/v1/audit/entries?before={page['next_before']}&actor=alice", headers=legal)
        ).json()
        assert [e["index"] for e in older["entries"]] == [base + 2, base + 1, base]
        assert older["next_before"] is None
        acks = (await get("/api/v1/audit/entries?action=alert.*&actor=alice", headers=legal)).json()
        assert [e["target"] for e in acks["entries"]] == ["alert:3", "alert:1"]
        one = await get(f"/api/v1/audit/entries/{base + 2}", headers=legal)
        assert one.status_code == 200 and one.json()["after"] == {"i": 2}
        missing = await get("/api/v1/audit/entries/999999", headers=legal)
        assert (
            missing.status_code == 404
            and "No audit entry with index 999999" in missing.json()["error"]["message"]
        )
        assert (await get("/api/v1/audit/entries?actor=a%00b", headers=legal)).status_code == 422
        assert (await get("/api/v1/audit/entries", headers=viewer)).status_code == 403
        assert (await get("/api/v1/audit/verify", headers=legal)).status_code == 403  # read, not verify

        no_cp = await get("/api/v1/audit/proof/1", headers=legal)
        assert no_cp.status_code == 409 and "No audit checkpoint yet" in no_cp.json()["error"]["message"]
        signer = load_signer(rig.context.settings.data_dir)
        async with rig.sessions.begin() as session:
            first = await create_checkpoint(session, signer=signer, clock=rig.clock)
            await record(session, actor="bob", action="user.create", target="user:carol", clock=rig.clock)
            second = await create_checkpoint(session, signer=signer, clock=rig.clock)
        assert first is not None and second is not None
        cps = (await get("/api/v1/audit/checkpoints", headers=legal)).json()
        assert [c["tree_size"] for c in cps] == [second.tree_size, first.tree_size]
        assert cps[0]["key_id"] == signer.key_id
        proof = (
            await get(f"/api/v1/audit/proof/{base + 2}?tree_size={first.tree_size}", headers=legal)
        ).json()
        assert (
            proof["valid"] and proof["tree_size"] == first.tree_size and proof["root_hash"] == first.root_hash
        )
        cons = await get(
            f"/api/v1/audit/consistency?first={first.tree_size}&second={second.tree_size}", headers=legal
        )
        assert cons.status_code == 200 and cons.json()["valid"]
        report = (await get("/api/v1/audit/verify", headers=co)).json()
        assert report["ok"] and report["status"] == "intact" and report["checkpoints"] == 2, report

        async with rig.sessions.begin() as session:
            await session.execute(
                text("UPDATE audit_entries SET actor = 'mallory' WHERE idx = :k"), {"k": base + 1}
            )
        bad = (await get("/api/v1/audit/verify?anchor=true", headers=co)).json()
        assert bad["status"] == "tampered" and bad["first_bad_index"] == base + 1
        assert bad["summary"].startswith(f"audit log TAMPERED — first bad index {base + 1}")


async def _count(rig: ApiRig) -> int:
    async with rig.sessions() as session:
        return await count_entries(session)
