"""The weekly security patch assessment (``patch_assessment``): installed Python distributions
(:mod:`importlib.metadata`) and npm packages (a ``package-lock.json``) against a local advisory file.

The advisory file is a JSON list of OSV records (https://ossf.github.io/osv-schema/): ``id``,
``affected[].package.{ecosystem, name}`` (ecosystems ``PyPI`` and ``npm``) and either
``affected[].versions`` (exact versions) or ``affected[].ranges[].events`` (``introduced`` / ``fixed`` /
``last_affected``, in order; ``introduced: "0"`` is every version before). Versions compare with
:class:`packaging.version.Version` (a version it cannot parse is compared only against ``versions``).
Its path: the step's ``advisories`` param, default ``advisories/osv.json`` (repository root; not
under config/, whose loader refuses unknown files); relative paths are resolved against the
repository (``CheckContext.config_dir``'s parent, else the working directory). The
npm lock files: ``npm_locks`` (default ``package-lock.json`` and ``node_modules/.package-lock.json``,
the ones that exist). The advisories are whatever the file holds: refreshing it (osv.dev export) is the
operator's part of the step.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fictra.errors import ConfigError
from fictra.procedures.checks import CheckContext, CheckResult

__all__ = ["DEFAULT_ADVISORIES", "affected_by", "installed_npm", "installed_python", "patch_assessment"]

DEFAULT_ADVISORIES = "advisories/osv.json"  # not under config/: the config set refuses unknown files
DEFAULT_LOCKS = ("package-lock.json", "node_modules/.package-lock.json")


@dataclass(frozen=True)
class Match:
    ecosystem: str
    package: str
    version: str
    advisory: str
    fixed: str | None
    summary: str

    def line(self) -> str:
        fix = f"fixed in {self.fixed}" if self.fixed else "no fixed version"
        return f"{self.package} {self.version} ({self.ecosystem}): {self.advisory}, {fix}"


def _key(ecosystem: str, name: str) -> tuple[str, str]:
    return (ecosystem, str(canonicalize_name(name)) if ecosystem == "PyPI" else name)


def installed_python() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[_key("PyPI", str(name))] = dist.version
    return out


def installed_npm(locks: list[Path]) -> dict[tuple[str, str], str]:
    """``name → version`` from lockfile v2/v3 ``packages`` (``node_modules/<name>`` keys)."""
    out: dict[tuple[str, str], str] = {}
    for lock in locks:
        try:
            doc = json.loads(lock.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"npm lock file '{lock}' is unreadable ({type(exc).__name__}).") from None
        for path, info in dict(doc.get("packages", {})).items():
            if "node_modules/" in path and isinstance(info, dict) and "version" in info:
                name = path.rsplit("node_modules/", 1)[1]
                out[_key("npm", name)] = str(info["version"])
    return out


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _in_ranges(version: Version, ranges: list[Any]) -> tuple[bool, str | None]:
    """Whether ``version`` lies in an interval of the events; the fixed version of that interval."""
    for rng in ranges:
        if not isinstance(rng, dict) or rng.get("type", "ECOSYSTEM") not in ("ECOSYSTEM", "SEMVER"):
            continue
        low: Version | None = None
        open_ = False
        for event in rng.get("events", []):
            if "introduced" in event:
                low, open_ = _version(str(event["introduced"])), True
            elif open_ and low is not None and ("fixed" in event or "last_affected" in event):
                fixed = "fixed" in event
                bound = _version(str(event["fixed" if fixed else "last_affected"]))
                if bound is not None and low <= version and (version < bound if fixed else version <= bound):
                    return True, str(event["fixed"]) if fixed else None
                open_ = False
        if open_ and low is not None and low <= version:
            return True, None
    return False, None


def affected_by(advisories: list[Any], installed: dict[tuple[str, str], str]) -> list[Match]:
    found: list[Match] = []
    for adv in advisories:
        if not isinstance(adv, dict):
            continue
        for aff in adv.get("affected", []):
            pkg = aff.get("package", {}) if isinstance(aff, dict) else {}
            key = _key(str(pkg.get("ecosystem", "")), str(pkg.get("name", "")))
            have = installed.get(key)
            if have is None:
                continue
            hit = have in [str(v) for v in aff.get("versions", [])]
            fixed = None
            parsed = _version(have)
            if parsed is not None:
                in_range, fixed = _in_ranges(parsed, list(aff.get("ranges", [])))
                hit = hit or in_range
            if hit:
                summary = str(adv.get("summary", ""))[:200]
                found.append(Match(key[0], key[1], have, str(adv.get("id", "?")), fixed, summary))
    return found


def _base(ctx: CheckContext) -> Path:
    return ctx.config_dir.parent if ctx.config_dir is not None else Path.cwd()


def _load(path: Path) -> list[Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no advisory file at '{path}' (OSV JSON list; see docs/procedures.md)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"advisory file '{path}' is unreadable ({type(exc).__name__})") from None
    if not isinstance(doc, list):
        raise ConfigError(f"advisory file '{path}' is not a JSON list of OSV records")
    return doc


async def patch_assessment(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    base = _base(ctx)
    path = base / str(params.get("advisories", DEFAULT_ADVISORIES))
    advisories = await asyncio.to_thread(_load, path)
    locks = [base / str(p) for p in params.get("npm_locks", DEFAULT_LOCKS)]
    present = [p for p in locks if p.is_file()]
    installed = await asyncio.to_thread(installed_python)
    installed |= await asyncio.to_thread(installed_npm, present)
    matches = affected_by(advisories, installed)
    data = {
        "advisory_file": str(path),
        "advisories": len(advisories),
        "python_packages": sum(1 for k in installed if k[0] == "PyPI"),
        "npm_packages": sum(1 for k in installed if k[0] == "npm"),
        "npm_locks": [str(p) for p in present],
        "affected": [m.__dict__ for m in matches],
    }
    counted = f"{data['python_packages']} Python and {data['npm_packages']} npm packages"
    if not matches:
        return CheckResult(
            True, f"{counted} checked against {len(advisories)} advisories: none affected", data
        )
    listed = "; ".join(m.line() for m in matches[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    return CheckResult(False, f"{len(matches)} vulnerable packages: {listed}{more}", data)
