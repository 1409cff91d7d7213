"""``python -m crisp_plugin schema`` and ``widget``: what a marketplace plugin's author
pastes in the Marketplace, printed from the plugin's own declarations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crisp_plugin import Plugin
from tests.marketplace.bots import SiteSettings

ROOT = Path(__file__).resolve().parents[2]


class Plain(Plugin):
    """A plugin for one's own workspace: no marketplace lines in ``check``."""


def run(tmp_path: Path, command: str, plugin_class: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "plugin.toml").write_text(
        f'[plugin]\nclass = "{plugin_class}"\nurn = "urn:acme:responder:1"\n'
        '[sandbox]\nenabled = true\n[marketplace]\npublic_url = "https://bots.acme.example/"\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "crisp_plugin", command, str(tmp_path / "plugin.toml")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_schema_prints_the_settings_json_schema_with_its_id(tmp_path: Path) -> None:
    done = run(tmp_path, "schema", "tests.marketplace.bots:Responder")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$id"] == "crisp:service:api/_schema/plugin#urn:acme:responder:1"
    assert schema["properties"]["delay"]["maximum"] == 60
    assert schema["properties"]["tone"]["enum"] == ["friendly", "formal"]
    expected = SiteSettings.model_json_schema()
    assert {k: v for k, v in schema.items() if k != "$id"} == expected
    assert done.stderr.splitlines() == [
        "Settings URL: https://bots.acme.example/crisp/settings",
        "Action URL:   https://bots.acme.example/crisp/widget",
    ]


def test_widget_prints_the_generic_widget_schema(tmp_path: Path) -> None:
    done = run(tmp_path, "widget", "tests.marketplace.bots:Responder")
    assert done.returncode == 0, done.stderr
    widget = json.loads(done.stdout)
    ids = [item["id"] for section in widget["sections"] for item in section["items"]]
    assert ids == ["send_canned", "tone", "explode"]


def test_a_plain_plugin_is_told_what_to_mix_in(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(
        "from crisp_plugin import Plugin\nclass Plain(Plugin):\n    pass\n"
    )
    done = run(tmp_path, "schema", "plain:Plain")
    assert done.returncode == 2
    assert "mix in crisp_plugin.marketplace.Marketplace" in done.stderr


def test_check_describes_a_marketplace_plugin(tmp_path: Path) -> None:
    done = run(tmp_path, "check", "tests.marketplace.bots:Responder")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    items = "send_canned, tone, explode"
    assert f"marketplace: website settings SiteSettings (4 fields); widget items: {items}" in lines
    assert (
        "  pages: https://bots.acme.example/crisp/settings, https://bots.acme.example/crisp/widget"
        " (served on http://127.0.0.1:8090)"
    ) in lines
    plain = run(tmp_path, "check", "tests.marketplace.test_marketplace_cli:Plain")
    assert plain.returncode == 0, plain.stderr
    assert not [line for line in plain.stdout.splitlines() if line.startswith("marketplace")]
