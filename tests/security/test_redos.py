"""Finding 5: silence/inhibit/route matcher regexes ran on Python's backtracking ``re`` inside the alert
pipeline; one crafted silence stalled the event loop. Now RE2: linear time, compiled once, limited."""

from __future__ import annotations

import re
import time

import pytest

from fictra.response.matchers import MAX_PATTERN, Matcher, make_matcher, parse_matcher

HOSTILE = "a" * 50_000 + "!"


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"(a|a)*$", r"(a*)*b", r"(a|aa)+$", r"^(([a-z])+.)+[A-Z]([a-z])+$"]
)
def test_catastrophic_patterns_finish_fast(pattern: str) -> None:
    matcher = make_matcher("instance", "=~", pattern)
    started = time.perf_counter()
    for _ in range(10):
        matcher.matches({"instance": HOSTILE})
    assert time.perf_counter() - started < 1.0  # Python's re takes far longer than the test's lifetime


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("node.*", "node-1"),
        ("node.*", "a-node-1"),
        ("P0|P1", "P1"),
        ("P0|P1", "P10"),
        (r"\d+", "123"),
        (r"\d+", "12a"),
        ("(?i)critical", "CRITICAL"),
        ("[a-z]{2,3}-[0-9]+", "ab-12"),
        ("[a-z]{2,3}-[0-9]+", "abcd-12"),
        ("", ""),
        ("", "x"),
        (".*", "anything at all"),
        ("a.c", "a\nc"),
    ],
)
def test_same_answers_as_python_re_fullmatch(pattern: str, value: str) -> None:
    expected = re.fullmatch(pattern, value) is not None
    assert make_matcher("l", "=~", pattern).matches({"l": value}) is expected
    assert make_matcher("l", "!~", pattern).matches({"l": value}) is (not expected)


def test_compiled_once_and_equal_by_text() -> None:
    first = parse_matcher('job=~"api.*"')
    assert isinstance(first, Matcher) and first == parse_matcher('job=~"api.*"')
    assert first._regex is not None and first._regex is first._regex


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(a)\1", "invalid escape"), ("(?=a)", "perl operator"), ("a{1001}", "repetition"), ("(", "missing")],
)
def test_unsupported_or_bad_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match="bad regular expression") as exc:
        make_matcher("l", "=~", pattern)
    assert reason in str(exc.value)


def test_pattern_length_limit() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_PATTERN}"):
        make_matcher("l", "=~", "a" * (MAX_PATTERN + 1))
