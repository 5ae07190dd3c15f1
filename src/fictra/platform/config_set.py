"""The one registry of config sections and the typed, immutable :class:`ConfigSet` built from it.

:data:`SECTIONS` lists every section: its files, the domain's parse function and reference check. It
lives in ``platform/`` (the only package that may know every domain), not in ``config/`` (the bottom
layer, which the domains import). :func:`load_config_set` reads every file once, validates it, runs every
reference check and raises :class:`~fictra.config.problems.ConfigProblems` naming every problem;
:meth:`ConfigSet.checked` runs the checks again against a deployment manifest without reading a file.
``fictra config check|show|docs`` and ``fictra up`` use this same registry.

A new domain adds one :class:`~fictra.config.sections.Section` entry here and one field of
:class:`ConfigSet` (filled in :func:`_build`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fictra.alerting.config import AckDeadlines, AlertingConfig, AlertPolicy
from fictra.auth.permissions import RoleMap, parse_roles
from fictra.chain.config import Endpoint, NetworkConfig
from fictra.chain.manifest import Manifest
from fictra.changes import config as changes
from fictra.changes.config import ChangesConfig
from fictra.compliance import config as compliance
from fictra.compliance.config import ComplianceConfig
from fictra.config.docs import render
from fictra.config.fields import redact_secret_ref
from fictra.config.problems import ConfigProblems
from fictra.config.sections import DocPart, Parsed, Section, check_sections, model_parse, read_sections
from fictra.economics import config as economics
from fictra.economics.config import EconomicsConfig
from fictra.emergency import config as emergency
from fictra.emergency.config import EmergencyConfig, parse_emergency
from fictra.incidents import config as incidents
from fictra.incidents.config import IncidentsConfig
from fictra.maintenance import config as maintenance
from fictra.maintenance.config import MaintenanceConfig
from fictra.monitors import config as monitors
from fictra.monitors.config import MonitorConfig
from fictra.monitors.refs import check_references as monitor_references
from fictra.monitors.refs import parse_monitors, parse_rules
from fictra.notify.config import ReceiversConfig, parse_receivers
from fictra.procedures import config as procedures
from fictra.procedures.checks import CHECKS as PROCEDURE_CHECKS
from fictra.procedures.config import ProceduresConfig
from fictra.reserve import config as reserve
from fictra.reserve.config import ReserveConfig
from fictra.response.loader import FILES as RESPONSE_FILES
from fictra.response.loader import ResponseConfig, parse_response
from fictra.response.loader import check_references as response_references
from fictra.rules.config import EventRuleConfig
from fictra.support import config as support
from fictra.support.config import SupportConfig
from fictra.tokens import config as tokens
from fictra.tokens.config import TokensConfig


def _receivers(parsed: Parsed) -> dict[str, list[str]] | None:
    """receiver -> channel names; None when there is no receivers.yaml or it is broken (not checked)."""
    receivers: ReceiversConfig | None = parsed["receivers"]
    if receivers is None or not parsed.has("receivers.yaml"):
        return None
    return receivers.channel_map()


def _check_monitors(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    items = [*parsed["monitors"], *(parsed["rules"] or [])]
    return monitor_references(items, network=parsed["network"], manifest=manifest, notes=notes)


def _check_response(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    response: ResponseConfig = parsed["response"]
    return response_references(response.with_receivers(_receivers(parsed)))


def _check_incidents(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    receivers = _receivers(parsed)
    response: ResponseConfig | None = parsed["response"]
    return incidents.check_references(
        parsed["incidents"],
        receivers=None if receivers is None else set(receivers),
        oncall=None if response is None else response.oncall,
    )


def _check_support(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    return support.check_references(parsed["support"], receivers=_receivers(parsed))


def _check_changes(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    roles: RoleMap | None = parsed["roles"]
    network: NetworkConfig | None = parsed["network"]
    return changes.check_references(
        parsed["changes"],
        contracts=None if manifest is None else list(manifest.contracts),
        endpoints=None if network is None else [e.name for e in network.endpoints],
        roles=None if roles is None else list(roles.names()),
        notes=notes,
    )


def _check_tokens(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    return tokens.check_references(
        parsed["tokens"], contracts=None if manifest is None else list(manifest.contracts)
    )


def _check_economics(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    return economics.check_references(
        parsed["economics"], contracts=None if manifest is None else list(manifest.contracts), notes=notes
    )


def _check_reserve(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    return reserve.check_references(
        parsed["reserve"], contracts=None if manifest is None else list(manifest.contracts), notes=notes
    )


def _check_maintenance(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    return maintenance.check_references(parsed["maintenance"], receivers=_receivers(parsed))


def _check_procedures(parsed: Parsed, manifest: Manifest | None, notes: list[str]) -> list[str]:
    roles: RoleMap | None = parsed["roles"]
    response: ResponseConfig | None = parsed["response"]
    return procedures.check_references(
        parsed["procedures"],
        roles=None if roles is None else roles.names(),
        schedules=None if response is None else [s.name for s in response.oncall.schedules],
        checks=PROCEDURE_CHECKS,
    )


_MONITOR_DOCS = tuple(
    DocPart(f"monitors/*.yaml: {kind}", "`monitors:` list item.", models)
    for kind, models in (
        (
            "node_health",
            (monitors.NodeHealthMonitor, monitors.NodeHealthSeverity, monitors.NodeHealthThresholds),
        ),
        (
            "transactions",
            (monitors.TransactionsMonitor, monitors.TransactionsSeverity, monitors.TransactionsThresholds),
        ),
        ("gas", (monitors.GasMonitor, monitors.GasSeverity, monitors.GasThresholds)),
        (
            "contract_status",
            (
                monitors.ContractStatusMonitor,
                monitors.ContractStatusSeverity,
                monitors.ContractStatusThresholds,
            ),
        ),
        (
            "oracle",
            (monitors.OracleMonitor, monitors.OracleSeverity, monitors.OracleThresholds, monitors.FeedBounds),
        ),
        ("anomaly", (monitors.AnomalyMonitor,)),
        ("concentration", (monitors.ConcentrationMonitor, monitors.ConcentrationThresholds)),
    )
)

SECTIONS: tuple[Section, ...] = (
    Section(
        "network",
        ("network.yaml",),
        model_parse(NetworkConfig),
        required=True,
        about="the chain and its RPC endpoints",
        docs=(
            DocPart(
                "network.yaml", "The chain, its RPC endpoints and the manifest.", (NetworkConfig, Endpoint)
            ),
        ),
    ),
    Section(
        "alerting",
        ("alerting.yaml",),
        model_parse(AlertingConfig),
        docs=(
            DocPart(
                "alerting.yaml",
                "Acknowledgement deadlines (runbook response times).",
                (AlertingConfig, AckDeadlines),
            ),
        ),
    ),
    Section("monitors", ("monitors/*.yaml",), parse_monitors, _check_monitors, docs=_MONITOR_DOCS),
    Section(
        "rules",
        ("rules/*.yaml",),
        parse_rules,
        docs=(
            DocPart(
                "rules/*.yaml: event_rule", "`rules:` list item (`type` may be omitted).", (EventRuleConfig,)
            ),
        ),
    ),
    Section("roles", ("roles.yaml",), parse_roles),
    Section("receivers", ("receivers.yaml",), parse_receivers),
    Section("response", RESPONSE_FILES, parse_response, _check_response),
    Section(
        "emergency",
        ("emergency.yaml",),
        parse_emergency,
        docs=(
            DocPart(
                "emergency.yaml",
                "Emergency actions: signers (V3 keystores), approval rules per kind, automatic-response "
                "policies (always disabled until an approved `policy_enable`). See docs/emergency.md.",
                (
                    emergency.EmergencyFile,
                    emergency.SignerConfig,
                    emergency.RuleConfig,
                    emergency.PolicyConfig,
                    emergency.PolicyMatch,
                ),
            ),
        ),
    ),
    Section(
        "incidents",
        ("incidents.yaml",),
        model_parse(IncidentsConfig),
        _check_incidents,
        docs=(
            DocPart(
                "incidents.yaml",
                "Incident management: update cadence, stakeholder groups, auto-declare. See "
                "docs/incidents.md.",
                (incidents.IncidentsConfig, incidents.AutoDeclare, incidents.CategoryRule),
            ),
        ),
    ),
    Section(
        "procedures",
        ("procedures.yaml",),
        model_parse(ProceduresConfig),
        _check_procedures,
        docs=(
            DocPart(
                "procedures.yaml",
                "Routine procedures: schedule, grace, owner, automated/manual/report steps. See "
                "docs/procedures.md.",
                (
                    procedures.Procedure,
                    procedures.AutomatedStep,
                    procedures.ManualStep,
                    procedures.ReportStep,
                ),
            ),
        ),
    ),
    Section(
        "changes",
        ("changes.yaml",),
        model_parse(ChangesConfig),
        _check_changes,
        docs=(
            DocPart(
                "changes.yaml",
                "Change management: component catalogue, risk questionnaire and scoring, approval rules "
                "by type and risk, allowed windows, freezes. See docs/changes.md.",
                (
                    changes.ChangesConfig,
                    changes.Component,
                    changes.Question,
                    changes.Scoring,
                    changes.RuleConfig,
                    changes.Window,
                    changes.Freeze,
                    changes.StandardTemplate,
                ),
            ),
        ),
    ),
    Section(
        "maintenance",
        ("maintenance.yaml",),
        model_parse(MaintenanceConfig),
        _check_maintenance,
        docs=(
            DocPart(
                "maintenance.yaml",
                "Maintenance windows: stakeholder notice lead time, forgotten-window reminders, "
                "recipients. See docs/maintenance.md.",
                (maintenance.MaintenanceConfig,),
            ),
        ),
    ),
    Section(
        "support",
        ("support.yaml",),
        model_parse(SupportConfig),
        _check_support,
        docs=(
            DocPart(
                "support.yaml",
                "Support queue: SLAs per priority, categories, the SMTP intake, where replies go. See "
                "docs/support.md.",
                (support.SupportConfig, support.PrioritySla, support.SmtpIntake, support.Replies),
            ),
        ),
    ),
    Section(
        "reserve",
        ("reserve.yaml",),
        model_parse(ReserveConfig),
        _check_reserve,
        docs=(
            DocPart(
                "reserve.yaml",
                "Reserve: the proof-of-reserve monitor (collateral ratio, stale prices) and the publisher "
                "of the on-chain proof-of-reserve feed. See docs/reserve.md.",
                (
                    reserve.ReserveConfig,
                    reserve.ProofConfig,
                    reserve.PublisherConfig,
                    reserve.AllocationTarget,
                    reserve.LiquidityPolicy,
                ),
            ),
        ),
    ),
    Section(
        "tokens",
        ("tokens.yaml",),
        model_parse(TokensConfig),
        _check_tokens,
        docs=(
            DocPart(
                "tokens.yaml",
                "Foundation token: the sovereign allocation registry (reconciled with the chain), the FT "
                "supply cap. See docs/tokens.md.",
                (tokens.TokensConfig, tokens.Sovereign, tokens.Kyc, tokens.ReconcileConfig),
            ),
        ),
    ),
    Section(
        "economics",
        ("economics.yaml",),
        model_parse(EconomicsConfig),
        _check_economics,
        docs=(
            DocPart(
                "economics.yaml",
                "Economic monitoring: the PT market monitor (peg, EWMA volatility, depth). See "
                "docs/economics.md.",
                (economics.EconomicsConfig, economics.PoolMonitorConfig, economics.Levels),
            ),
        ),
    ),
    Section(
        "compliance",
        ("compliance.yaml",),
        model_parse(ComplianceConfig),
        docs=(
            DocPart(
                "compliance.yaml",
                "Compliance: screening of PT/FT transfers against the imported lists, name matching "
                "threshold, KYC alerting. See docs/compliance.md.",
                (
                    compliance.ComplianceConfig,
                    compliance.ScreeningConfig,
                    compliance.NamesConfig,
                    compliance.KycConfig,
                    compliance.AmlConfig,
                    compliance.FilingConfig,
                    compliance.FeedConfig,
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class ConfigSet:
    """Every section of the config directory, validated and cross-checked, read once at start-up."""

    config_dir: Path
    network: NetworkConfig
    alerting: AlertingConfig
    monitors: tuple[MonitorConfig, ...]
    rules: tuple[EventRuleConfig, ...]
    roles: RoleMap
    receivers: ReceiversConfig
    response: ResponseConfig
    incidents: IncidentsConfig
    emergency: EmergencyConfig
    procedures: ProceduresConfig
    support: SupportConfig
    changes: ChangesConfig = field(default_factory=ChangesConfig)
    maintenance: MaintenanceConfig = field(default_factory=MaintenanceConfig)
    reserve: ReserveConfig = field(default_factory=ReserveConfig)
    tokens: TokensConfig = field(default_factory=TokensConfig)
    economics: EconomicsConfig = field(default_factory=EconomicsConfig)
    compliance: ComplianceConfig = field(default_factory=ComplianceConfig)
    notes: tuple[str, ...] = ()
    parsed: Parsed | None = field(default=None, repr=False, compare=False)

    @property
    def policy(self) -> AlertPolicy:
        return AlertPolicy.from_config(self.alerting)

    def checked(self, manifest: Manifest | None) -> ConfigSet:
        """The same config checked again against ``manifest`` (contracts, events): no file is read."""
        if self.parsed is None:
            return self
        problems, notes = check_sections(self.parsed, SECTIONS, manifest=manifest)
        if problems:
            raise ConfigProblems(self.config_dir, problems)
        return replace(self, notes=tuple(notes))

    def redacted(self) -> dict[str, Any]:
        """The effective config as plain data, secrets redacted (for ``fictra config show``)."""
        network = self.network.model_dump(mode="json")
        for ep in network["endpoints"]:
            ep["url"] = redact_secret_ref(ep["url"])
        return {
            "network": network,
            "alerting": self.alerting.model_dump(mode="json"),
            "monitors": [m.model_dump(mode="json") for m in self.monitors],
            "rules": [r.model_dump(mode="json") for r in self.rules],
        }


def _build(config_dir: Path, parsed: Parsed, notes: list[str]) -> ConfigSet:
    receivers: ReceiversConfig = parsed["receivers"]
    response: ResponseConfig = parsed["response"].with_receivers(_receivers(parsed))
    people = {name: p.receiver for name, p in response.oncall.people.items()}
    oncall = response.oncall if parsed.has("oncall.yaml") else None
    incidents_cfg: IncidentsConfig = parsed["incidents"]
    emergency_cfg: EmergencyConfig = parsed["emergency"]
    return ConfigSet(
        config_dir=config_dir,
        network=parsed["network"],
        alerting=parsed["alerting"],
        monitors=tuple(s.item for s in parsed["monitors"]),
        rules=tuple(s.item for s in parsed["rules"]),
        roles=parsed["roles"],
        receivers=receivers,
        response=response,
        incidents=incidents_cfg.with_directory(_receivers(parsed) or {}, people, oncall),
        emergency=emergency_cfg.model_copy(update={"config_dir": config_dir}),
        procedures=parsed["procedures"],
        support=parsed["support"],
        changes=parsed["changes"],
        maintenance=parsed["maintenance"],
        reserve=parsed["reserve"],
        tokens=parsed["tokens"],
        economics=parsed["economics"],
        compliance=parsed["compliance"],
        notes=tuple(notes),
        parsed=parsed,
    )


def load_config_set(config_dir: Path, *, manifest: Manifest | None = None) -> ConfigSet:
    """Read every file of ``config_dir`` once, validate and cross-check it (against ``manifest`` too when
    given); raise :class:`ConfigProblems` listing every problem of every file."""
    parsed, problems = read_sections(config_dir, SECTIONS)
    found, notes = check_sections(parsed, SECTIONS, manifest=manifest)
    problems.extend(found)
    if problems or any(parsed[s.name] is None for s in SECTIONS):
        raise ConfigProblems(config_dir, problems)
    return _build(config_dir, parsed, notes)


def doc_parts() -> list[DocPart]:
    """The parts of the configuration reference, in the registry's order."""
    return [part for section in SECTIONS for part in section.docs]


def reference() -> str:
    """The configuration reference (docs/configuration.md), generated from the registry's models."""
    return render(doc_parts())
