"""The list formats parse the official layouts; malformed and hostile files are refused naming file
and line."""

from __future__ import annotations

import pytest

from compliance.helpers import DELISTED, FIXTURES, LISTED
from fictra.compliance.formats import ListRefused, parse


def _parse(fmt: str, name: str) -> list:
    return parse(fmt, (FIXTURES / name).read_bytes(), path=name)


@pytest.mark.parametrize("name", ["sdn_advanced_v1.xml", "sdn_advanced_legacy_ns.xml"])
def test_ofac_advanced_xml_both_namespaces(name: str) -> None:
    entries = {e.key: e for e in _parse("ofac_sdn_xml", name)}
    assert set(entries) == {"41001", "41002"}
    lazarus, vinnikov = entries["41001"], entries["41002"]
    # ETH features resolved through ReferenceValueSets; the XBT address is not an EVM address
    assert lazarus.addresses == (LISTED,) and vinnikov.addresses == (DELISTED,)
    assert lazarus.name == "LAZARUS TEST GROUP" and lazarus.aliases == ("HIDDEN COBRA TEST",)
    assert vinnikov.name == "Aleksandr VINNIKOV" and vinnikov.kind == "individual"
    assert lazarus.programs == ("DPRK3",) and vinnikov.programs == ("CYBER2",)


def test_ofac_csv_remarks_addresses_and_aliases() -> None:
    entries = {e.key: e for e in _parse("ofac_csv", "sdn.csv")}
    assert entries["41001"].addresses == (LISTED,)
    assert entries["41001"].aliases == ("HIDDEN COBRA TEST",)
    assert entries["41002"].addresses == (DELISTED,) and entries["41002"].kind == "individual"
    assert entries["36"].addresses == () and entries["36"].programs == ("CUBA",)


def test_opensanctions_ftm_wallets_join_their_holder() -> None:
    entries = {e.key: e for e in _parse("opensanctions_ftm", "opensanctions.ftm.json")}
    assert entries["NK-lazarus-test"].addresses == (LISTED,)  # the BTC wallet is skipped
    assert entries["wallet-2"].kind == "wallet"  # no holder in the file: its own entry
    assert "addr-1" not in entries and "wallet-1" not in entries
    assert entries["ru-vinnikov-test"].aliases == ("Aleksandr Vinnikov",)


@pytest.mark.parametrize("name", ["threat.csv", "threat.json"])
def test_threat_lists(name: str) -> None:
    keys = {e.key for e in _parse("threat", name)}
    assert keys == {
        "0x722122df12d4e14e13ac3b6895a86e84145b6967",
        "0xdd4c48c0b24039969fc16d1cdf626eab821d3384",
    }


@pytest.mark.parametrize(
    ("fmt", "name", "where", "what"),
    [
        ("ofac_sdn_xml", "sdn_truncated.xml", "sdn_truncated.xml:61:", "not well-formed XML"),
        (
            "ofac_sdn_xml",
            "sdn_wrong_namespace.xml",
            "sdn_wrong_namespace.xml:2:",
            "http://example.org/not-ofac/1.0",
        ),
        ("ofac_csv", "sdn_missing_column.csv", "sdn_missing_column.csv:2:", "11 columns, expected 12"),
    ],
)
def test_malformed_files_refused_with_file_and_line(fmt: str, name: str, where: str, what: str) -> None:
    with pytest.raises(ListRefused) as err:
        _parse(fmt, name)
    assert err.value.user_message.startswith(where)
    assert what in err.value.user_message
    assert "previous version stays in force" in err.value.user_message


def test_hostile_xml_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<Sanctions xmlns="http://www.un.org/sanctions/1.0">&lol2;</Sanctions>"""
    with pytest.raises(ListRefused, match="declares entities"):
        parse("ofac_sdn_xml", bomb, path="bomb.xml")
    external = b"""<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd">
<Sanctions xmlns="http://www.un.org/sanctions/1.0"></Sanctions>"""
    with pytest.raises(ListRefused, match="no ReferenceValueSets"):  # the DTD is never fetched
        parse("ofac_sdn_xml", external, path="external.xml")


def test_bad_threat_row_names_its_line() -> None:
    data = b"address,category\n0x722122dF12D4e14e13Ac3b6895a86e84145b6967,mixer\nnot-an-address,x\n"
    with pytest.raises(ListRefused, match=r"^t.csv:3: 'not-an-address' is not an EVM address"):
        parse("threat", data, path="t.csv")


def test_eu_and_un_consolidated_xml() -> None:
    eu = {e.key: e for e in _parse("eu_xml", "eu_fsd.xml")}
    assert eu["9001"].name == "Lazarus Test Group" and eu["9001"].aliases == ("Hidden Cobra Test",)
    assert eu["9002"].kind == "individual" and eu["9002"].aliases == ("Александр Винников",)
    assert eu["9001"].programs == ("PRK",) and eu["9002"].programs == ("RUS",)
    un = {e.key: e for e in _parse("un_xml", "un_consolidated.xml")}
    assert (un["6908001"].name, un["6908001"].kind, un["6908001"].aliases) == (
        "KIM TEST CHOL",
        "individual",
        ("Kim Chol Test",),
    )
    assert un["6908002"].name == "KOREA TEST TRADING CORPORATION" and un["6908002"].programs == ("DPRK",)
    with pytest.raises(ListRefused, match=r"^un_consolidated.xml:2: root element is 'CONSOLIDATED_LIST'"):
        parse("eu_xml", (FIXTURES / "un_consolidated.xml").read_bytes(), path="un_consolidated.xml")
