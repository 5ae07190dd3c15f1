"""roles.yaml: the shipped file, the defaults, and bad input each paired with its exact error."""

from __future__ import annotations

from pathlib import Path

import pytest

from fictra.auth.permissions import (
    DEFAULT_ROLES,
    PERMISSIONS,
    default_roles,
    load_roles,
    roles_from,
)
from fictra.config.problems import ConfigProblems
from fictra.platform.config_set import load_config_set

from .conftest import REPO

RUNBOOK_ROLES = {
    "first_level_support",
    "technical_lead",
    "system_architect",
    "operations_manager",
    "security_officer",
    "compliance_officer",
    "product_owner",
    "legal",
    "executive",
    "viewer",
    "admin",
}
WRITE = {p for p in PERMISSIONS if not p.endswith(".read")}


def test_shipped_roles_are_the_defaults_and_cover_the_runbook() -> None:
    shipped = load_roles(REPO / "config" / "roles.yaml")
    assert shipped == default_roles()
    assert set(shipped.roles) == RUNBOOK_ROLES == set(DEFAULT_ROLES)


def test_role_semantics() -> None:
    r = default_roles()
    assert not r.roles["viewer"] & WRITE  # read-only
    support = {"alerts.acknowledge", "alerts.note", "procedures.signoff", "tickets.manage", "support.submit"}
    assert r.roles["first_level_support"] & WRITE == support
    for responder in ("technical_lead", "system_architect", "security_officer", "operations_manager"):
        assert {"alerts.acknowledge", "alerts.resolve", "alerts.escalate", "silences.manage"} <= r.roles[
            responder
        ]
    for reader in ("executive", "legal", "product_owner", "compliance_officer"):
        # compliance signs off the monthly audit procedure (the step's roles decide who may) and works
        # its own domain (list imports, KYC records, hit dispositions)
        own = {"compliance.manage", "compliance.dispose"} if reader == "compliance_officer" else set()
        if reader in ("legal", "compliance_officer"):  # they approve FT issuance (ft_issue's rule) and SARs
            own |= {"actions.approve", "compliance.approve"}
        assert not r.roles[reader] & (WRITE - {"audit.verify", "procedures.signoff"} - own), reader
    assert "procedures.signoff" not in r.roles["product_owner"]
    assert "audit.read" in r.roles["compliance_officer"]
    assert r.roles["admin"] == frozenset(PERMISSIONS)
    assert r.permissions_of(["lead_engineer"]) == r.roles["technical_lead"]  # alias
    assert r.permissions_of(["viewer", "first_level_support"]) == r.roles["first_level_support"]


BAD = [
    ("roles: [viewer]\n", ["roles.yaml:roles: Input should be a valid dictionary"]),
    ("rolez: {viewer: []}\n", ["roles.yaml:roles: required key is missing", "roles.yaml:rolez: unknown key"]),
    ("roles: {}\n", ["roles.yaml:roles: Dictionary should have at least 1 item after validation, not 0"]),
    (
        "roles:\n  viewer: [alerts.read, alerts.destroy]\n  admin: ['*', nope]\n",
        [
            "roles.yaml:roles.viewer.1: unknown permission 'alerts.destroy'; expected '*' or one of: "
            + ", ".join(sorted(PERMISSIONS)),
            "roles.yaml:roles.admin.1: unknown permission 'nope'; expected '*' or one of: "
            + ", ".join(sorted(PERMISSIONS)),
        ],
    ),
    (
        "roles:\n  lead_engineer: [alerts.read]\n",
        [
            "roles.yaml:roles.lead_engineer: 'lead_engineer' is an alias of 'technical_lead'; "
            "define that role instead"
        ],
    ),
    (
        "roles:\n  viewer: alerts.read\n",
        ["roles.yaml:roles.viewer: invalid value 'alerts.read': Input should be a valid list"],
    ),
    (
        "roles:\n  viewer: [a\n",
        [
            "roles.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence at line 2, column 11)"
        ],
    ),
    (
        "roles:\n  viewer: []\n  viewer: [alerts.read]\n",
        ["roles.yaml:3:3: YAML syntax error: duplicate key 'viewer' in one mapping"],
    ),
]


@pytest.mark.parametrize(("text", "problems"), BAD)
def test_bad_roles_file(tmp_path: Path, text: str, problems: list[str]) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    with pytest.raises(ConfigProblems) as err:
        load_roles(path)
    assert err.value.problems == problems


def test_config_check_reports_roles_problems(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "config" / "roles.yaml").write_text("roles:\n  viewer: [alerts.readd]\n")
    with pytest.raises(ConfigProblems) as err:
        load_config_set(tmp_path / "config")
    assert [p for p in err.value.problems if p.startswith("roles.yaml")] == [
        "roles.yaml:roles.viewer.0: unknown permission 'alerts.readd'; expected '*' or one of: "
        + ", ".join(sorted(PERMISSIONS))
    ]


def test_roles_from_reloads_on_change_and_defaults_without_file(tmp_path: Path) -> None:
    assert roles_from(tmp_path) == default_roles()
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  viewer: [alerts.read]\n")
    assert roles_from(tmp_path).roles == {"viewer": frozenset({"alerts.read"})}
    import os

    path.write_text("roles:\n  viewer: [alerts.read, metrics.read]\n")
    os.utime(path, (1e9, 1e9))  # a different mtime, whatever the file system's resolution
    assert roles_from(tmp_path).roles == {"viewer": frozenset({"alerts.read", "metrics.read"})}
