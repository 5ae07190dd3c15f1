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

import numpy as np
from rapidfuzz import fuzz, process
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
    """Every listed name and alias, normalised once. :meth:`match` finds candidates in C++ (rapidfuzz
    ``process.extract`` with Jaro-Winkler on the names and on their sorted words, plus the names sharing a
    distinctive word) and scores only those with :func:`score` — the same result as scoring every name."""

    RARE = 50  # a word in more names than this is not distinctive: it selects no candidates by itself

    def __init__(self) -> None:
        self.items: list[tuple[str, str, int, str, str, str]] = []  # (norm, list, version, key, name, listed)
        self.norms: list[str] = []
        self.sorted_norms: list[str] = []
        self.words: dict[str, list[int]] = {}

    def add(self, *, list_name: str, version_id: int, key: str, name: str, aliases: Iterable[str]) -> None:
        for text in (name, *aliases):
            norm = normalize(text)
            if norm:
                i = len(self.items)
                self.items.append((norm, list_name, version_id, key, name, text))
                self.norms.append(norm)
                self.sorted_norms.append(" ".join(sorted(norm.split())))
                for word in set(norm.split()):
                    if len(word) >= 4:
                        self.words.setdefault(word, []).append(i)

    def __len__(self) -> int:
        return len(self.items)

    def _words(self, query: str) -> set[int]:
        found: set[int] = set()
        if len(query.split()) >= 2:
            for word in set(query.split()):
                ids = self.words.get(word)
                if ids is not None and len(ids) <= self.RARE:
                    found.update(ids)
        return found

    def _best(self, query: str, candidates: Iterable[int], threshold: float) -> list[NameMatch]:
        best: dict[tuple[str, str], NameMatch] = {}
        for i in candidates:
            norm, list_name, version_id, key, entry_name, listed = self.items[int(i)]
            s = score(query, norm)
            if s >= threshold:
                ident = (list_name, key)
                if ident not in best or best[ident].score < s:
                    best[ident] = NameMatch(list_name, version_id, key, entry_name, listed, round(s, 4))
        return sorted(best.values(), key=lambda m: -m.score)

    def match(self, name: str, *, threshold: float) -> list[NameMatch]:
        """Entries scoring at least ``threshold`` against ``name``, best first, one per entry."""
        return self.match_many([name], threshold=threshold)[0]

    def match_many(self, names: list[str], *, threshold: float, chunk: int = 256) -> list[list[NameMatch]]:
        """:meth:`match` for many names: Jaro-Winkler of every name against every listed name and of their
        sorted words (rapidfuzz ``cdist``, one core), in chunks; only the candidates get the full score."""
        queries = [normalize(n) for n in names]
        out: list[list[NameMatch]] = [[] for _ in queries]
        if not self.items:
            return out
        for start in range(0, len(queries), chunk):
            part = queries[start : start + chunk]
            ordered = [" ".join(sorted(q.split())) for q in part]
            jw = JaroWinkler.normalized_similarity
            direct = process.cdist(
                part, self.norms, scorer=jw, score_cutoff=threshold, dtype=np.float32, workers=1
            )
            words = process.cdist(
                ordered, self.sorted_norms, scorer=jw, score_cutoff=threshold, dtype=np.float32, workers=1
            )
            for row, query in enumerate(part):
                if not query:
                    continue
                candidates = {*np.flatnonzero(direct[row]).tolist(), *np.flatnonzero(words[row]).tolist()}
                candidates |= self._words(query)
                out[start + row] = self._best(query, candidates, threshold)
        return out
