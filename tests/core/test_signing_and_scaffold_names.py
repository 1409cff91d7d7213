"""Hook signatures refuse junk without raising; init names never break an import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crisp_plugin.scaffold import names_for
from crisp_plugin.signing import compact_json, sign, verify

BODY = compact_json({"event": "message:send", "data": {"content": 'Café ☕ "quoted"'}})


def test_a_good_signature_verifies_and_a_changed_byte_does_not() -> None:
    signature = sign("s3cret", "1700000000000", BODY)
    assert verify("s3cret", "1700000000000", BODY, signature)
    assert not verify("s3cret", "1700000000000", BODY.replace(b"Caf", b"Cbf"), signature)
    assert not verify("other", "1700000000000", BODY, signature)
    assert not verify("s3cret", "1700000000001", BODY, signature)


@pytest.mark.parametrize("signature", ["é", "ÿ" * 64, "", "  "])
def test_a_non_hex_signature_is_refused_not_raised(signature: str) -> None:
    assert verify("s3cret", "1700000000000", BODY, signature) is False


def test_a_non_ascii_timestamp_is_refused_not_raised() -> None:
    assert verify("s3cret", "\uff11\uff17\uff10\uff10", BODY, sign("s3cret", "1700", BODY)) is False


@pytest.mark.parametrize(
    ("name", "module"),
    [("class", "class_plugin"), ("json", "json_plugin"), ("echo-bot", "echo_bot")],
)
def test_init_names_that_would_not_import_get_a_suffix(name: str, module: str) -> None:
    assert names_for(name)[0] == module


def test_init_json_writes_a_plugin_that_imports(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "crisp_plugin", "init", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "json"
    imported = subprocess.run(
        [sys.executable, "-c", "import json_plugin, json; print(json_plugin.Json.__name__)"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "Json"
