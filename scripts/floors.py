"""Print pip constraints pinning each runtime dependency of pyproject.toml to its floor.

    python scripts/floors.py > floors.txt
    pip install --constraint floors.txt -e '.[dev]'

Every entry of ``[project] dependencies``, and of each optional extra but ``dev`` (the
runtime extras, such as ``redis``: the suite installs them through ``dev``), must have
a ``>=`` floor; it comes out as ``name==floor`` (extras dropped: a constraint names a
distribution), its environment marker kept (``uvloop==0.19; sys_platform != 'win32'``:
pinned where it installs). An extra's entry naming this project itself (``dev`` pulling
in ``crisp-plugin[redis,...]``) is no dependency of its own. A dependency with no floor, or
with two, stops the script with one line on stderr and exit 2, so a new dependency
cannot slip past the floors run of scripts/test.sh.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# name, optional [extras], the version specifiers, then an optional environment marker
_REQUIREMENT = re.compile(
    r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*(.*\S))?\s*"
)


def floor_pins(dependencies: list[str]) -> list[str]:
    """``name==floor`` for each requirement; ``ValueError`` naming one without a floor."""
    pins: list[str] = []
    for requirement in dependencies:
        match = _REQUIREMENT.fullmatch(requirement)
        if match is None or (";" in requirement and match.group(3) is None):
            raise ValueError(f"{requirement!r}: not a plain 'name>=floor,<bound' requirement")
        name, specifiers, marker = match.group(1), match.group(2), match.group(3)
        floors = [
            spec.strip()[2:].strip()
            for spec in specifiers.split(",")
            if spec.strip().startswith(">=")
        ]
        if len(floors) != 1 or not floors[0]:
            raise ValueError(f"{requirement!r}: needs exactly one '>=' floor")
        pins.append(f"{name}=={floors[0]}" + (f"; {marker}" if marker else ""))
    return pins


def runtime_requirements(project: dict[str, Any]) -> list[str]:
    """``[project] dependencies``, then each runtime extra's (every extra but ``dev``),
    leaving out an entry that names the project itself."""
    own = _normalized(project["name"])
    out = list(project["dependencies"])
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extra == "dev":
            continue
        for requirement in requirements:
            match = _REQUIREMENT.fullmatch(requirement)
            if match is None or _normalized(match.group(1)) != own:
                out.append(requirement)
    return out


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    try:
        pins = floor_pins(runtime_requirements(project))
    except ValueError as exc:
        print(f"floors: pyproject.toml dependency {exc}", file=sys.stderr)
        return 2
    print("\n".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
