"""Fuzzy name matching: normalisation with transliteration, then Jaro-Winkler and token ratios (rapidfuzz).

:func:`normalize` folds a name to lower-case ASCII words: Unicode NFKD with the combining marks dropped
(``Müller`` → ``muller``), Cyrillic and Greek letters transliterated by a table (``Александр`` →
``aleksandr``), punctuation to spaces. :func:`score` is the best of Jaro-Winkler on the whole normalised
name and the token-sort and token-set ratios (word order and extra words), each in 0..1.
:class:`NameIndex` scores a name against every listed name and alias, with a cheap length and first-letter
prefilter before the full score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

__all__ = ["NameIndex", "NameMatch", "normalize", "score"]

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i i ie g u".split(),
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς",
        "a v g d e z i th i k l m n x o p r s t y f ch ps o a e i i o y o s".split(),
        strict=True,
    )
)
_TABLE = {ord(k): ("" if v == "_" else v) for k, v in {**_CYRILLIC, **_GREEK}.items()}
_TABLE.update({ord("ß"): "ss", ord("æ"): "ae", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l", ord("þ"): "th"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(name: str) -> str:
    text = name.lower().translate(_TABLE)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


def score(a: str, b: str) -> float:
    """Similarity of two *normalised* names in 0..1."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    jw = JaroWinkler.similarity(a, b)
    sort = fuzz.token_sort_ratio(a, b) / 100.0
    tset = fuzz.token_set_ratio(a, b) / 100.0 if min(len(a.split()), len(b.split())) >= 2 else 0.0
    return max(jw, sort, tset)


@dataclass(frozen=True)
class NameMatch:
    list_name: str
    version_id: int
    entry_key: str
    entry_name: str
    matched: str  # the listed name or alias that matched
    score: float


class NameIndex:
    """Every listed name and alias, normalised once."""

    def __init__(self) -> None:
        self.items: list[
            tuple[str, str, int, str, str, str]
        ] = []  # (norm, list, version, key, name, as listed)

    def add(self, *, list_name: str, version_id: int, key: str, name: str, aliases: Iterable[str]) -> None:
        for text in (name, *aliases):
            norm = normalize(text)
            if norm:
                self.items.append((norm, list_name, version_id, key, name, text))

    def __len__(self) -> int:
        return len(self.items)

    def match(self, name: str, *, threshold: float) -> list[NameMatch]:
        """Entries scoring at least ``threshold`` against ``name``, best first, one per entry."""
        query = normalize(name)
        if not query:
            return []
        best: dict[tuple[str, str], NameMatch] = {}
        n = len(query)
        for norm, list_name, version_id, key, entry_name, listed in self.items:
            if abs(len(norm) - n) > max(n, len(norm)) * 0.5 and query.split()[0][:1] != norm[:1]:
                continue  # far apart in length and different initials: cannot reach a high score
            s = score(query, norm)
            if s >= threshold:
                ident = (list_name, key)
                if ident not in best or best[ident].score < s:
                    best[ident] = NameMatch(list_name, version_id, key, entry_name, listed, round(s, 4))
        return sorted(best.values(), key=lambda m: -m.score)
