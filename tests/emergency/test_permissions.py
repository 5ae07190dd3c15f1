"""One authorization decision per operation (issue 11): proposing a kind needs the kind's own permission
on every route. The matrix is DERIVED from the kind registry and config/roles.yaml — every kind × every
role — so a new kind cannot skip it; the kinds' proposer roles agree with roles.yaml and with the table
in docs/emergency.md."""

from __future__ import annotations

import re
from pathlib import Path

from api.rig import CONFIG_DIR, api_rig
from fictra.auth.permissions import load_roles
from fictra.emergency.approvals import canonical_roles
from fictra.emergency.kinds.registry import KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emergency.md"
ROLE_MAP = load_roles(CONFIG_DIR / "roles.yaml")
ROLES = sorted(ROLE_MAP.roles)


def _may(role: str, kind: str) -> bool:
    defn = KINDS[kind].definition
    perms = ROLE_MAP.permissions_of([role])
    has = {"actions.propose", defn.permission} <= perms or "*" in perms
    return has and bool(set(canonical_roles([role])) & set(defn.proposers))


def test_proposer_roles_hold_the_kinds_permission_in_roles_yaml() -> None:
    for kind, k in KINDS.items():
        defn = k.definition
        for role in defn.proposers:
            assert defn.permission in ROLE_MAP.permissions_of([role]), (kind, role, defn.permission)
    # the finding: a technical lead could enable a policy through the generic route
    assert not _may("technical_lead", "policy_enable") and _may("operations_manager", "policy_enable")


def test_docs_table_agrees_with_the_registry() -> None:
    rows = {}
    for line in DOCS.read_text().splitlines():
        m = re.match(r"^\| `(\w+)` \| `([\w.]+)` \| ([\w, ]+) \|$", line)
        if m:
            rows[m[1]] = (m[2], tuple(r.strip() for r in m[3].split(",")))
    assert rows == {k: (v.definition.permission, v.definition.proposers) for k, v in KINDS.items()}


async def test_every_kind_by_every_role_through_the_generic_route(database_url: str) -> None:
    async with api_rig(database_url, roles=ROLES, alerts=0) as rig:
        seen: dict[tuple[str, str], int] = {}
        for kind, k in KINDS.items():
            for role in ROLES:
                body = {"kind": kind, "params": k.definition.example}
                r = await rig.client.post("/api/v1/actions", json=body, headers=rig.auth(role))
                seen[(kind, role)] = r.status_code
                if r.status_code == 403:
                    message = r.json()["error"]["message"]
                    assert (
                        "actions.propose" in message
                        or k.definition.permission in message
                        or ("may not propose" in message)
                    ), message
        expected = {(kind, role): 201 if _may(role, kind) else 403 for kind in KINDS for role in ROLES}
        assert seen == expected
        assert seen[("policy_enable", "technical_lead")] == 403
        assert seen[("policy_disable", "system_architect")] == 403
