"""Fuzzy name matching against the OpenSanctions FtM fixture: a match at the threshold, a transliterated
variant found, a near miss below the threshold not."""

from __future__ import annotations

from compliance.helpers import FIXTURES
from fictra.compliance.formats import parse
from fictra.compliance.names import NameIndex, normalize, score

THRESHOLD = 0.90


def _index() -> NameIndex:
    index = NameIndex()
    for e in parse("opensanctions_ftm", (FIXTURES / "opensanctions.ftm.json").read_bytes(), path="os.json"):
        index.add(list_name="opensanctions", version_id=1, key=e.key, name=e.name, aliases=e.aliases)
    return index


def test_normalize_transliterates() -> None:
    assert normalize("Александр Винников") == "aleksandr vinnikov"
    assert normalize("Müller Handelsgesellschaft") == "muller handelsgesellschaft"
    assert normalize("  LAZARUS-Test, group ") == "lazarus test group"


def test_match_at_threshold_transliterated_variant_and_near_miss() -> None:
    index = _index()
    # at the threshold: exactly the configured score is a hit
    at = "Lazarus Test Groop"
    s = score(normalize(at), normalize("Lazarus Test Group"))
    hits = index.match(at, threshold=s)
    assert [h.entry_key for h in hits][:1] == ["NK-lazarus-test"] and hits[0].score == round(s, 4)
    assert s >= THRESHOLD
    # a transliterated variant of the Cyrillic name (and of the German umlaut) is found
    assert [h.entry_key for h in index.match("Alexandr Vinnikov", threshold=THRESHOLD)] == [
        "ru-vinnikov-test"
    ]
    assert [h.entry_key for h in index.match("Mueller Handelsgesellschaft", threshold=THRESHOLD)] == [
        "de-mueller-test"
    ]
    # a near miss, below the threshold, is not
    near = "Lazarev Trading Group"
    assert 0.75 < score(normalize(near), normalize("Lazarus Test Group")) < THRESHOLD
    assert index.match(near, threshold=THRESHOLD) == []
