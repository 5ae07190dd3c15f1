"""User-provided text made safe to show: no terminal control sequences, no bidi tricks, no raw markup.

Ground floor (imports nothing of ours). Any domain that shows text a person typed — incident titles,
notes and status updates, action reasons, change requests — on a terminal, in the console or in a
Markdown report passes it through here first.

* :func:`strip_controls` removes C0 controls (except newline and tab), DEL, C1 controls and the
  bidirectional formatting characters (U+202A–U+202E embeddings/overrides, U+2066–U+2069 isolates,
  U+200E/U+200F marks) that make a terminal or a reader see something other than what is stored
  ("Trojan Source"). ``\\r`` goes too: alone it rewinds a terminal line over what was printed.
* :func:`markdown_escape` backslash-escapes the characters that would make text into Markdown or raw
  HTML markup (tags and entities, links and images, emphasis, code, headings, table cells), so it
  renders as typed. ``_`` is left alone: inside words CommonMark never reads it as emphasis, and
  identifiers such as ``pause_all`` stay searchable in the Markdown.
"""

from __future__ import annotations

import re

__all__ = ["BIDI", "markdown_escape", "safe_line", "strip_controls"]

BIDI = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f"]
)
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)  # C0 but \t (09) and \n (0a); DEL; C1; bidi marks, embeddings, overrides, isolates
_MARKDOWN = re.compile(r"([\\`*\[\]<>|&])")  # escapes, code, emphasis, links/images, HTML, table cells
_HEADING = re.compile(r"^([ \t]*)#", re.MULTILINE)  # a "#" opening a line would make a heading


def strip_controls(text: str) -> str:
    """``text`` without control and bidi formatting characters; newlines and tabs are kept."""
    return _CONTROLS.sub("", text)


def safe_line(text: str) -> str:
    """One terminal line: controls stripped and line breaks/tabs flattened to single spaces."""
    return " ".join(strip_controls(text).split())


def markdown_escape(text: str) -> str:
    """``text`` (controls stripped) with every Markdown/HTML markup character backslash-escaped, so a
    CommonMark renderer shows it literally: ``<script>`` stays text, ``[x](y)`` is no link."""
    return _HEADING.sub(r"\1\\#", _MARKDOWN.sub(r"\\\1", strip_controls(text)))
