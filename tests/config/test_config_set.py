"""The config set: every problem of every file at once (file + key path), each config file opened exactly
once per start-up of `fictra up`, and no YAML read when the console serves an incident page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from api.rig import ApiRig
from config.support import REPO_CONFIG, config_dir
from fictra.config.problems import ConfigProblems
from fictra.config.reader import READS
from fictra.devnet.anvil import free_port
from fictra.platform.config_set import SECTIONS, load_config_set
from web.conftest import LEAD, client_for, csrf_of, lead, rig, sign_in, template_db  # noqa: F401 - fixtures

# `fictra up` in a subprocess that writes the reader's counts (path -> opens) to a file when it exits
COUNTING_UP = (
    "import atexit, json, sys; from fictra.config import reader; "
    "out = sys.argv.pop(1); atexit.register(lambda: open(out, 'w').write(json.dumps(reader.READS))); "
    "from fictra.cli import main; sys.argv[0] = 'fictra'; main()"
)


def test_every_problem_of_several_files_is_reported_at_once_with_file_and_key(tmp_path: Path) -> None:
    directory = config_dir(tmp_path / "config", "receivers.yaml")
    (directory / "network.yaml").write_text("name: devnet\nchain_id: 0\nendpoints: []\n")
    (directory / "alerting.yaml").write_text("ack_deadlines: {P0: soon}\n")
    (directory / "monitors").mkdir()
    (directory / "monitors" / "m.yaml").write_text("monitors:\n  - {type: gas, name: g, colour: red}\n")
    (directory / "incidents.yaml").write_text("reminder_receiver: nobody\n")
    (directory / "oncall.yaml").write_text("people:\n  ann: {receiver: pager}\n")
    (directory / "emergency.yaml").write_text("confirmations: [\n")
    with pytest.raises(ConfigProblems) as exc:
        load_config_set(directory)
    assert exc.value.problems == [
        "network.yaml:chain_id: invalid value 0: Input should be greater than 0",
        "network.yaml:endpoints: List should have at least 1 item after validation, not 0",
        "alerting.yaml:ack_deadlines.P0: 'soon' is not a duration; use seconds or a number with ms/s/m/h/d, "
        "e.g. '15m'",
        "monitors/m.yaml:monitors.0.colour: unknown key",
        "emergency.yaml:2:1: YAML syntax error: expected the node content, but found '<stream end>' "
        "(while parsing a flow node at line 2, column 1)",
        "oncall.yaml:people.ann.receiver: unknown receiver 'pager' (receivers.yaml has: ops-log)",
        "incidents.yaml:reminder_receiver: unknown receiver 'nobody' (receivers.yaml has: ops-log)",
    ]
    assert str(directory) in exc.value.user_message and exc.value.exit_code == 2


def test_the_registry_names_every_shipped_file() -> None:
    patterns = {f for s in SECTIONS for f in s.files}
    shipped = {p.name for p in REPO_CONFIG.glob("*.yaml")} | {"monitors/*.yaml", "rules/*.yaml"}
    assert shipped <= patterns
    assert len({s.name for s in SECTIONS}) == len(SECTIONS)


def test_checking_against_a_manifest_reads_no_file_again(tmp_path: Path) -> None:
    from monitors.test_config_support import devnet_manifest

    directory = config_dir(tmp_path / "config")
    shutil.copytree(REPO_CONFIG / "rules", directory / "rules")
    loaded = load_config_set(directory)
    before = sum(READS.values())
    checked = loaded.checked(devnet_manifest())
    assert sum(READS.values()) == before
    assert checked.notes == () and loaded.notes != ()
    (directory / "rules" / "x.yaml").write_text("rules:\n  - {name: x, contract: Resrve, event: Withdrawn}\n")
    with pytest.raises(ConfigProblems, match=r"rules/x\.yaml:rules\.0\.contract: unknown contract 'Resrve'"):
        load_config_set(directory).checked(devnet_manifest())


def test_fictra_up_opens_each_config_file_exactly_once(tmp_path: Path) -> None:
    """The real start-up (devnet, every domain attached, HTTP served): each file read once."""
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    network = yaml.safe_load((tmp_path / "config" / "network.yaml").read_text())
    network["endpoints"][0]["url"] = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "config" / "network.yaml").write_text(yaml.safe_dump(network))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FICTRA_")}
    env["FICTRA_HTTP_PORT"] = str(free_port())
    counts = tmp_path / "reads.json"
    try:
        result = subprocess.run(
            [sys.executable, "-c", COUNTING_UP, str(counts), "up", "--no-view", "--no-simulate",
             "--duration", "2"],
            capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    finally:
        subprocess.run(
            [sys.executable, "-m", "fictra.cli", "devnet", "down"], env=env, cwd=tmp_path,
            capture_output=True, timeout=60,
        )  # fmt: skip
    reads = json.loads(counts.read_text())
    config = (tmp_path / "config").resolve()
    files = sorted(str(p.resolve()) for p in config.rglob("*.yaml"))
    assert files and {path: reads.get(path, 0) for path in files} == dict.fromkeys(files, 1)
    assert set(reads) == set(files)  # and nothing else went through the config reader


async def test_the_console_reads_no_yaml_serving_incident_pages(rig: ApiRig, lead: httpx.AsyncClient) -> None:  # noqa: F811
    before = dict(READS)
    listing = await lead.get("/incidents")
    assert listing.status_code == 200
    done = await lead.post(
        "/incidents",
        data={
            "csrf_token": csrf_of(listing.text),
            "title": "Reserve drained",
            "severity": "P0",
            "category": "smart_contract",
            "summary": "Reserve balance fell 40% in one block.",
        },
    )
    assert done.status_code == 303, done.text
    page = await lead.get(done.headers["location"])
    assert page.status_code == 200 and "Reserve drained" in page.text
    assert (await lead.get(f"/incidents/new?alert={rig.alert_ids[0]}")).status_code == 200
    api = await lead.get(f"/api/v1{done.headers['location']}")
    assert api.status_code == 200, api.text
    async with client_for(rig) as other:  # a new sign-in (roles) reads nothing either
        assert (await sign_in(other, LEAD)).status_code == 303
    assert dict(READS) == before
