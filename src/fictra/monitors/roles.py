"""Role and admin events of the contract-status monitor: RoleGranted (to a trusted account: role_granted,
else unauthorized_role_grant), RoleRevoked (role_revoked; it also ends an unauthorized grant of that
role to that account), RoleAdminChanged and OwnershipTransferred (admin_changed).

Trusted accounts are the manifest's role holders (except outsider roles such as the devnet
``attacker``), the monitor's ``authorized_accounts`` and the deployed contracts themselves.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.types import Log
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import ZERO_ROLE, ContractIndex, Watched, block_finding, topic
from fictra.monitors.config import ContractStatusMonitor

ROLE_GRANTED = topic("RoleGranted(bytes32,address,address)")
ROLE_REVOKED = topic("RoleRevoked(bytes32,address,address)")
ROLE_ADMIN_CHANGED = topic("RoleAdminChanged(bytes32,bytes32,bytes32)")
OWNERSHIP = topic("OwnershipTransferred(address,address)")
OUTSIDER_ROLES = frozenset({"attacker"})  # devnet manifest roles that are not trusted accounts


def address_of(word: str) -> str:
    """The address in the low 20 bytes of a 32-byte word (a topic or a storage slot)."""
    return "0x" + word[-40:]


class RoleEvents:
    def __init__(self, *, config: ContractStatusMonitor, manifest: Manifest, index: ContractIndex) -> None:
        self.config = config
        self.network = manifest.network
        trusted = {
            a.lower() for role, addrs in manifest.roles.items() if role not in OUTSIDER_ROLES for a in addrs
        }
        trusted |= {a.lower() for a in config.authorized_accounts}
        trusted |= {e.address.lower() for e in manifest.contracts.values()}
        self.trusted = trusted
        self.role_names: dict[str, str] = {ZERO_ROLE: "DEFAULT_ADMIN_ROLE"}
        for w in index.by_name.values():
            for fn in w.functions.values():
                if fn.endswith("_ROLE") and fn != "DEFAULT_ADMIN_ROLE":
                    self.role_names["0x" + keccak(text=fn).hex()] = fn

    def _finding(
        self,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        at: BlockRef,
        evidence: dict[str, object],
        log: Log,
    ) -> Finding:
        return block_finding(
            self.config,
            network=self.network,
            severity=severity,
            summary=summary,
            labels=labels,
            block=at,
            evidence=evidence,
            tx_hashes=(log.tx_hash,),
        )

    def event(self, w: Watched, log: Log, at: BlockRef) -> MonitorOutput | None:
        """The findings (and clears) one log of ``w`` means; None for logs that are not role events."""
        t0, sev = log.topics[0], self.config.severity
        if t0 in (ROLE_GRANTED, ROLE_REVOKED) and len(log.topics) == 4:
            return self._grant_or_revoke(w, log, at)
        if t0 == ROLE_ADMIN_CHANGED and len(log.topics) == 4:
            role = self.role_names.get(log.topics[1], log.topics[1])
            old, new = (self.role_names.get(x, x) for x in log.topics[2:4])
            labels = {"contract": w.name, "condition": "admin_changed", "role": role}
            summary = f"{w.name}: admin role of {role} changed from {old} to {new}"
            evidence: dict[str, object] = {"role": role, "previous_admin_role": old, "new_admin_role": new}
            return MonitorOutput(
                findings=[self._finding(sev.admin_changed, summary, labels, at, evidence, log)]
            )
        if t0 == OWNERSHIP and len(log.topics) == 3:
            old, new = address_of(log.topics[1]), address_of(log.topics[2])
            labels = {"contract": w.name, "condition": "admin_changed", "role": "owner"}
            summary = f"{w.name}: ownership transferred from {old} to {new}"
            evidence = {"previous_owner": old, "new_owner": new}
            return MonitorOutput(
                findings=[self._finding(sev.admin_changed, summary, labels, at, evidence, log)]
            )
        return None

    def _grant_or_revoke(self, w: Watched, log: Log, at: BlockRef) -> MonitorOutput:
        sev, revoked = self.config.severity, log.topics[0] == ROLE_REVOKED
        role = self.role_names.get(log.topics[1], log.topics[1])
        account, sender = address_of(log.topics[2]), address_of(log.topics[3])
        evidence: dict[str, object] = {"role": role, "account": account, "sender": sender}
        if revoked:
            condition, severity, verb = "role_revoked", sev.role_revoked, "revoked from"
        elif account in self.trusted:
            condition, severity, verb = "role_granted", sev.role_granted, "granted to"
        else:
            condition, severity, verb = "unauthorized_role_grant", sev.unauthorized_role_grant, "granted to"
            evidence["expected"] = "an account in the manifest roles or authorized_accounts"
        labels = {"contract": w.name, "condition": condition, "role": role, "account": account}
        summary = f"{w.name}: {role} {verb} {account} by {sender}"
        out = MonitorOutput(findings=[self._finding(severity, summary, labels, at, evidence, log)])
        if revoked:  # an unauthorized holder losing the role ends that condition
            unauthorized = {**labels, "condition": "unauthorized_role_grant"}
            out.clears.append(Clear(self.config.name, unauthorized, network=self.network, block=at))
        return out
