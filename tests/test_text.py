"""fictra.text: control and bidi characters stripped from user text, Markdown/HTML markup escaped."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from fictra.text import markdown_escape, safe_line, strip_controls


@pytest.mark.parametrize(
    "char",
    [
        "\x00", "\x07", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f",
        "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
        "\u200e", "\u200f",
    ],
)  # fmt: skip
def test_every_control_and_bidi_character_is_stripped(char: str) -> None:
    assert strip_controls(f"a{char}b") == "ab"


def test_newlines_tabs_and_ordinary_unicode_stay() -> None:
    text = "line one\n\tline two — naïve 日本語 ✓ \u200d"  # ZWJ (emoji sequences) is not a bidi control
    assert strip_controls(text) == text


def test_terminal_escape_sequences_lose_their_escape() -> None:
    # clear screen + a title rewrite: without ESC/BEL only inert text remains
    assert strip_controls("\x1b[2J\x1b]0;pwned\x07ok") == "[2J]0;pwnedok"
    # "Trojan Source": an RLO makes 'txt.exe' read as 'exe.txt'
    assert strip_controls("report\u202etxt.exe") == "reporttxt.exe"


def test_safe_line_flattens_to_one_line() -> None:
    assert safe_line("  a\nb\r\n\tc\x1b  ") == "a b c"


def test_markdown_escape_renders_typed_text_literally() -> None:
    md = MarkdownIt("commonmark", {"html": True})  # even with raw HTML allowed
    hostile = "<img src=x onerror=alert(1)> [click](javascript:alert(1)) **bold** `code` # head | cell &amp;"
    html = md.render(markdown_escape(hostile))
    assert "<img" not in html and "<a " not in html and "<strong>" not in html and "<code>" not in html
    assert "<h1>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click](javascript:alert(1))" in html and "**bold**" in html and "&amp;amp;" in html


def test_markdown_escape_keeps_identifiers_and_strips_controls() -> None:
    assert markdown_escape("pause_all on 0xab_cd\x1b") == "pause_all on 0xab_cd"
    assert markdown_escape("a|b") == "a\\|b"
    assert markdown_escape("# head\n  # two, issue #12") == "\\# head\n  \\# two, issue #12"
