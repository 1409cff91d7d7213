"""Every example's plugin.toml (and the quickstart's) is valid and names a class that imports.

Runs ``python -m crisp_plugin check`` on each, as a reader of the README would.
"""

import asyncio
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
QUICKSTART = HERE.parent / "plugin.toml"
CONFIGS = [*sorted(HERE.glob("*/plugin.toml")), QUICKSTART]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda p: "quickstart" if p == QUICKSTART else p.parent.name
)
async def test_check_accepts_the_config(config: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "check",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    assert proc.returncode == 0, text
    assert f"{config}: valid" in text


def test_every_example_has_a_module_a_config_and_a_test() -> None:
    examples = [p.parent for p in CONFIGS if p != QUICKSTART]
    assert {p.name for p in examples} == {
        "greeter",
        "office_hours",
        "faq",
        "email_capture",
        "satisfaction",
        "triage",
    }
    for folder in examples:
        module = folder / f"{folder.name}.py"
        package = folder / folder.name / "__init__.py"  # an example over several modules
        assert module.is_file() or package.is_file()
        assert (folder / f"test_{folder.name}.py").is_file()
        assert "enabled = true" in (folder / "plugin.toml").read_text()
