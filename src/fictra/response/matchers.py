"""Label matchers with Alertmanager's syntax: ``name="value"``, ``name!="v"``, ``name=~"re"``, ``name!~"re"``.

Regular expressions are anchored (``=~"node.*"`` must match the whole value), like Alertmanager. A label
that is absent matches as the empty string.

Regular expressions run on RE2 (``google-re2``), like Alertmanager's Go regexp: matching takes time linear
in the label's length whatever the pattern (no catastrophic backtracking can stall the alert pipeline), and
a pattern is compiled once, with a length limit (:data:`MAX_PATTERN`) and a memory limit for its automaton
(:data:`MAX_PROGRAM_BYTES`). RE2 has no backreferences or look-arounds; such a pattern is refused with
the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import re2  # type: ignore[import-untyped]
from pydantic import BeforeValidator, PlainSerializer

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_OPS = ("=", "!=", "=~", "!~")
MAX_PATTERN = 1000  # characters of one regular expression
MAX_PROGRAM_BYTES = 8 << 20  # RE2's memory budget for one compiled pattern


class Pattern(Protocol):
    def fullmatch(self, text: str) -> object | None: ...


def compile_pattern(value: str) -> Pattern:
    """RE2-compile ``value`` once, within the limits; ValueError with RE2's reason otherwise."""
    if len(value) > MAX_PATTERN:
        raise ValueError(f"the regular expression has {len(value)} characters; at most {MAX_PATTERN}")
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_BYTES
    options.log_errors = False
    try:
        return re2.compile(value, options)  # type: ignore[no-any-return]
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(reason) from None


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str
    # a compiled RE2 Pattern (typed Any: pydantic builds schemas of models holding matchers)
    _regex: Any = field(default=None, compare=False, repr=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = self._regex is not None and self._regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def make_matcher(name: str, op: str, value: str) -> Matcher:
    if op not in _OPS:
        raise ValueError(f"matcher operator '{op}' is not one of {', '.join(_OPS)}")
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = compile_pattern(value)
        except ValueError as exc:
            raise ValueError(f"matcher '{name}{op}{value[:100]}': bad regular expression ({exc})") from None
    return Matcher(name, op, value, regex)


def parse_matcher(text: object) -> Matcher:
    """``'severity="P0"'`` or ``severity=P0`` -> Matcher; ValueError naming the text otherwise."""
    if isinstance(text, Matcher):
        return text
    if not isinstance(text, str):
        raise ValueError(f"matcher {text!r} is not a string like 'severity=\"P0\"'")
    match = _MATCHER.match(text)
    if match is None:
        raise ValueError(f'matcher \'{text}\' is not name="value", name!="value", name=~"re" or name!~"re"')
    name, op, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return make_matcher(name, op, value)


def matches_all(matchers: list[Matcher] | tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


MatcherField = Annotated[Matcher, BeforeValidator(parse_matcher), PlainSerializer(str, return_type=str)]


def alert_labels(*, labels: Mapping[str, str], severity: str, monitor: str, network: str) -> dict[str, str]:
    """The label set routing, inhibition and silences match on: the alert's labels plus ``severity``,
    ``monitor`` and ``network`` (the alert's own labels win on a clash)."""
    return {"severity": severity, "monitor": monitor, "network": network, **dict(labels)}
