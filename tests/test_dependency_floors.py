"""pyproject.toml's dependencies: each has a floor and a next-major bound, and
scripts/floors.py turns the runtime ones into the ==floor pins of the floors run."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SPEC = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?([^;]*)(?:;\s*(.*))?")


def specifiers(requirement: str) -> tuple[str, dict[str, str]]:
    match = SPEC.fullmatch(requirement)
    assert match is not None, requirement
    parts = [p.strip() for p in match.group(2).split(",") if p.strip()]
    return match.group(1), {p[:2] if p[1] == "=" else p[:1]: p.lstrip("<>=!~") for p in parts}


def marker(requirement: str) -> str:
    match = SPEC.fullmatch(requirement)
    assert match is not None, requirement
    return f"; {match.group(3).strip()}" if match.group(3) else ""


def test_every_dependency_has_a_floor_and_an_upper_bound_at_a_major() -> None:
    tools = [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    for requirement in [*PROJECT["dependencies"], *tools]:
        name, spec = specifiers(requirement)
        if name == PROJECT["name"]:
            continue  # an extra pulled into another (dev: crisp-plugin[redis]), checked there
        if "==" in spec:
            continue  # an exact pin (crisp-api, for the conformance tests) is its own bound
        assert set(spec) == {">=", "<"}, requirement
        floor_major = int(spec[">="].split(".")[0])
        assert re.fullmatch(r"\d+", spec["<"]), f"{requirement}: bound is not a major"
        assert int(spec["<"]) > floor_major, requirement


def floors(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_floors_script_pins_each_runtime_dependency_at_its_floor() -> None:
    done = floors("scripts/floors.py")
    assert done.returncode == 0, done.stderr
    expected = []
    runtime_extras = [
        requirement
        for extra, requirements in PROJECT["optional-dependencies"].items()
        if extra != "dev"
        for requirement in requirements
        if not requirement.startswith("crisp-plugin[")  # an extra naming others (speed)
    ]
    for requirement in [*PROJECT["dependencies"], *runtime_extras]:
        name, spec = specifiers(requirement)
        expected.append(f"{name}=={spec['>=']}{marker(requirement)}")
    assert done.stdout.splitlines() == expected
    assert "aiohttp==3.14" in expected and "python-socketio==5.10" in expected
    assert "redis==5.0.1" in expected  # the redis extra, which dev pulls in
    assert "pytest-asyncio==0.24" in expected  # the testing extra: a plugin's own tests
    # uvloop pinned where it installs: the marker goes into the constraint unchanged
    assert "uvloop==0.19; sys_platform != 'win32'" in expected


def test_dev_pulls_in_every_runtime_extra() -> None:
    extras = PROJECT["optional-dependencies"]
    runtime = sorted(name for name in extras if name != "dev")
    assert f"crisp-plugin[{','.join(runtime)}]" in extras["dev"]


def test_floors_script_refuses_a_dependency_without_a_floor() -> None:
    code = (
        "import sys; sys.path.insert(0, 'scripts'); import floors\n"
        "for r in ('aiohttp<4', 'aiohttp>=3,>=3.1', 'x; python_version < \"3.12\"', 'y>=1;'):\n"
        "    try: floors.floor_pins([r])\n"
        "    except ValueError as exc: print(exc)\n"
    )
    done = floors("-c", code)
    assert done.stdout.splitlines() == [
        "'aiohttp<4': needs exactly one '>=' floor",
        "'aiohttp>=3,>=3.1': needs exactly one '>=' floor",
        "'x; python_version < \"3.12\"': needs exactly one '>=' floor",
        "'y>=1;': not a plain 'name>=floor,<bound' requirement",
    ]
