"""config/receivers.yaml: where notifications go and how the outbox retries.

Each receiver has one or more channels (a discriminated union on ``type``); a channel's ``name``
(default: its type) is what :func:`fictra.notify.service.enqueue` names as ``channel``. Secrets
(SMTP passwords, webhook HMAC keys, routing keys, Apprise URLs with tokens) are references —
``env:VAR``, ``file:path`` or a plain value — resolved when sending, never printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from fictra.config.fields import Duration, SecretRef, check_secret_ref
from fictra.config.reader import read_yaml
from fictra.config.sections import Document, broken
from fictra.errors import ConfigError

_NAME = r"^[A-Za-z0-9_.-]+$"


def _check_url_ref(value: str) -> str:
    """Apprise and webhook URLs: env:/file: references or a plain scheme://... URL."""
    if value.startswith(("env:", "file:")):
        return check_secret_ref(value)
    if "://" not in value:
        raise ValueError("expected a URL (scheme://...) or a secret reference env:VAR / file:path")
    return value


UrlRef = Annotated[str, AfterValidator(_check_url_ref)]


class RateLimit(BaseModel):
    """Token bucket: ``per_second`` sustained, ``burst`` at once."""

    model_config = ConfigDict(extra="forbid")
    per_second: float = Field(gt=0, description="Sustained sends per second.")
    burst: int = Field(default=1, ge=1, description="Sends allowed at once after an idle spell.")


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, pattern=_NAME, description="Channel name; default: its type.")
    rate_limit: RateLimit | None = None
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per-send timeout.")

    @property
    def key(self) -> str:
        return self.name or str(getattr(self, "type"))  # noqa: B009 - every subclass declares type


class LogChannel(_Channel):
    type: Literal["log"]
    level: Literal["info", "warning", "error"] = "warning"


class EmailChannel(_Channel):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: SecretRef | None = None
    password: SecretRef | None = None
    sender: str = Field(min_length=3, description="From address.")
    to: list[str] = Field(min_length=1)
    direct: bool = Field(
        default=False,
        description="Send a message that names recipients (a support reply) to them, as a plain mail.",
    )
    message_id_domain: str = Field(
        default="fictra.invalid",
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$",
        max_length=200,
        description="Right-hand side of every Message-ID (RFC 5322 <id@domain>): your mail domain.",
    )


class WebhookChannel(_Channel):
    type: Literal["webhook"]
    url: UrlRef
    secret: SecretRef | None = Field(default=None, description="HMAC-SHA256 key; signs every request.")
    headers: dict[str, str] = Field(default_factory=dict)


class AppriseChannel(_Channel):
    type: Literal["apprise"]
    urls: list[UrlRef] = Field(min_length=1, description="Apprise URLs (slack://, msteams://, tgram://...).")


class PagerDutyChannel(_Channel):
    type: Literal["pagerduty"]
    routing_key: SecretRef
    url: UrlRef = "https://events.pagerduty.com/v2/enqueue"
    source: str = "fictra-ops"


class OpsgenieChannel(_Channel):
    type: Literal["opsgenie"]
    api_key: SecretRef
    url: UrlRef = "https://api.opsgenie.com"
    tags: list[str] = Field(default_factory=list)
    responders: list[dict[str, str]] = Field(default_factory=list)


ChannelConfig = Annotated[
    LogChannel | EmailChannel | WebhookChannel | AppriseChannel | PagerDutyChannel | OpsgenieChannel,
    Field(discriminator="type"),
]


def send_limit(channel: _Channel) -> float:
    """Seconds one send may take in all (its timeout applies per step: connect, send, read)."""
    return 2 * channel.timeout.total_seconds() + 1


CHANNEL_TYPES = ("log", "email", "webhook", "apprise", "pagerduty", "opsgenie")


class Receiver(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME)
    channels: list[ChannelConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_channels(self) -> Receiver:
        seen: set[str] = set()
        for ch in self.channels:
            if ch.key in seen:
                raise ValueError(f"channel name '{ch.key}' is used twice; give each channel a distinct name")
            seen.add(ch.key)
        return self

    def channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.key == name), None)


class DeliveryPolicy(BaseModel):
    """Retries: attempt n waits min(max_backoff, initial_backoff * multiplier**(n-1)) * (1 +- jitter)."""

    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(default=8, ge=1, le=100)
    initial_backoff: Duration = timedelta(seconds=10)
    max_backoff: Duration = timedelta(minutes=30)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: float = Field(default=0.2, ge=0.0, lt=1.0)
    lease: Duration = Field(default=timedelta(minutes=2), description="Claims older than this are retaken.")
    batch: int = Field(default=50, ge=1, le=1000)
    poll_interval: Duration = timedelta(seconds=1)


PLevel = Literal["P0", "P1", "P2", "P3"]
_DEFAULT_SEVERITY_MAP: dict[str, PLevel] = {
    "p0": "P0", "critical": "P0", "page": "P0", "emergency": "P0",
    "p1": "P1", "high": "P1", "error": "P1", "major": "P1",
    "p2": "P2", "warning": "P2", "medium": "P2", "minor": "P2",
    "p3": "P3", "info": "P3", "low": "P3", "none": "P3",
}  # fmt: skip


class InboundConfig(BaseModel):
    """Alerts received from Alertmanager and the generic endpoint."""

    model_config = ConfigDict(extra="forbid")

    severity_label: str = Field(default="severity", min_length=1, description="Label that carries severity.")
    severity_map: dict[str, Literal["P0", "P1", "P2", "P3"]] = Field(
        default_factory=lambda: dict(_DEFAULT_SEVERITY_MAP),
        description="Severity label value (case-insensitive) -> P-level; the label itself is kept verbatim.",
    )
    default_severity: Literal["P0", "P1", "P2", "P3"] = Field(
        default="P2", description="P-level of an inbound alert whose severity is missing or not mapped."
    )
    auto_declare: bool = Field(
        default=False,
        description="Let inbound alerts auto-declare incidents (incidents.yaml rules); off: only the "
        "chain's own alerts do.",
    )
    network: str = Field(
        default="external", min_length=1, max_length=64, description="Network of inbound alerts."
    )

    @model_validator(mode="after")
    def _lower_keys(self) -> InboundConfig:
        self.severity_map = {k.strip().lower(): v for k, v in self.severity_map.items()}
        return self


class ReceiversConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receivers: list[Receiver] = Field(default_factory=list)
    inbound: InboundConfig = Field(default_factory=InboundConfig, description="Inbound alert intake.")
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
    console_url: str = Field(default="http://127.0.0.1:8000", description="Base of links in messages.")

    @model_validator(mode="after")
    def _unique_receivers(self) -> ReceiversConfig:
        names = [r.name for r in self.receivers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"receiver name(s) {', '.join(dupes)} used more than once")
        lease = self.delivery.lease.total_seconds()
        for r in self.receivers:
            for ch in r.channels:
                limit = send_limit(ch)
                if limit >= lease:
                    raise ValueError(
                        f"delivery.lease ({lease:g}s) must exceed the longest send of receiver '{r.name}' "
                        f"channel '{ch.key}' (2 x timeout + 1 s = {limit:g}s), or a slow send is sent twice"
                    )
        return self

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)

    def channel_map(self) -> dict[str, list[str]]:
        """Receiver name -> its channels' names (what the outbox is told to deliver on)."""
        return {r.name: [c.key for c in r.channels] for r in self.receivers}


def _problem_lines(rel: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"] if not (isinstance(x, str) and x in CHANNEL_TYPES)]
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
            msg = f"unknown or missing channel type; expected one of: {', '.join(CHANNEL_TYPES)}"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{rel}:{'.'.join(loc) or '(top)'}: {msg}")
    return out


def _load(path: Path) -> tuple[ReceiversConfig | None, list[str]]:
    problems: list[str] = []
    raw: Any = read_yaml(path, path.name, problems)
    if problems:
        return None, problems
    return receivers_of(path.name, raw)


def receivers_of(rel: str, raw: Any) -> tuple[ReceiversConfig | None, list[str]]:
    """The validated receivers of a parsed receivers file (None when broken) and every problem."""
    try:
        return ReceiversConfig.model_validate({} if raw is None else raw), []
    except ValidationError as exc:
        problems = _problem_lines(rel, exc)
    # the cross-checks as well, even when some entry is broken (pydantic skips them then)
    items = raw.get("receivers") if isinstance(raw, dict) else None
    names = [r.get("name") for r in items if isinstance(r, dict)] if isinstance(items, list) else []
    dupes = sorted({str(n) for n in names if n is not None and names.count(n) > 1})
    line = f"{rel}:(top): receiver name(s) {', '.join(dupes)} used more than once"
    if dupes and line not in problems:
        problems.append(line)
    return None, problems


def parse_receivers(docs: Sequence[Document], problems: list[str]) -> ReceiversConfig | None:
    """The receivers section of the config set (no receivers when there is no receivers.yaml)."""
    if not docs:
        return ReceiversConfig()
    if broken(docs[0]):
        return None
    loaded, found = receivers_of(docs[0].rel, docs[0].data)
    problems.extend(found)
    return loaded


def receiver_problems(path: Path) -> list[str]:
    """Every problem of receivers.yaml as "file:key.path: message" lines (``fictra config check``)."""
    return _load(path)[1]


def load_receivers(path: Path) -> ReceiversConfig:
    """Load and validate receivers.yaml; a missing file means no receivers."""
    if not path.exists():
        return ReceiversConfig()
    loaded, problems = _load(path)
    if loaded is None:
        raise ConfigError(f"{path} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return loaded
