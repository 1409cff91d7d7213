"""What the packaging tests share: running a command with everything it printed on
failure, a user's shell with nothing of the checkout's, the wheelhouse a fresh
environment installs from, and a fresh environment itself.

The wheelhouse sits next to the running interpreter's environment: filled by ``pip
download`` when the package's dependencies (or the mypy and setuptools the checks use)
change, and installed from offline (``--no-index``) otherwise.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from crisp_plugin import __version__

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

__all__ = [
    "PY",
    "ROOT",
    "Built",
    "Venv",
    "fill_wheelhouse",
    "fresh_venv",
    "mypy_requirement",
    "run",
    "setuptools_requirement",
]


def run(
    cmd: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None, limit: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on a non-zero exit fail with the command and everything it printed."""
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=limit
    )
    if done.returncode != 0:
        pytest.fail(
            f"exit {done.returncode}: {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}",
            pytrace=False,
        )
    return done


@dataclass
class Built:
    source: Path  # a clean copy of the checkout's source, outside it
    wheel: Path
    sdist: Path


@dataclass
class Venv:
    root: Path
    work: Path  # a folder of the user's, outside the checkout
    env: dict[str, str]
    wheelhouse: Path

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name

    def pip_install(self, *requirements: str | Path, options: tuple[str, ...] = ()) -> None:
        """``pip install`` offline, from the wheelhouse only."""
        run(
            [self.bin("python"), "-m", "pip", "install", "-q", "--no-index", "--find-links",
             self.wheelhouse, *options, *requirements],
            cwd=self.work, env=self.env,
        )  # fmt: skip


def mypy_requirement() -> str:
    """The mypy the contributors' checks run, for the scaffold's check."""
    return f"mypy=={importlib.metadata.version('mypy')}"


def setuptools_requirement() -> str:
    """The setuptools that builds this project here, for an editable install."""
    return f"setuptools=={importlib.metadata.version('setuptools')}"


def fill_wheelhouse(wheel: Path) -> Path:
    """The wheels ``<wheel>[testing]``, mypy and setuptools need, downloaded once per
    set of dependencies next to the running environment, then reused offline."""
    wheelhouse = Path(sys.prefix) / "crisp-plugin-wheelhouse"
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read(f"crisp_plugin-{__version__}.dist-info/METADATA").decode()
    requires = "\n".join(re.findall(r"^Requires-Dist: .+$", metadata, re.M))
    tools = [mypy_requirement(), setuptools_requirement()]
    key = "\n".join([requires, *tools, platform.python_version(), sys.platform])
    want = hashlib.sha256(key.encode()).hexdigest()
    stamp = wheelhouse / ".stamp"
    if stamp.is_file() and stamp.read_text() == want:
        return wheelhouse
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    run(
        [PY, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--dest", wheelhouse,
         f"{wheel}[testing]", *tools],
        cwd=wheelhouse,
    )  # fmt: skip
    for own in wheelhouse.glob("crisp_plugin-*"):
        own.unlink()  # the wheel under test is always the one just built
    stamp.write_text(want)
    return wheelhouse


def _user_env(venv: Path) -> dict[str, str]:
    """A user's shell with the fresh environment on PATH and nothing of the checkout's."""
    drop = ("PYTHON", "VIRTUAL_ENV", "CRISP_", "PIP_", "MYPY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def fresh_venv(base: Path, wheelhouse: Path) -> Venv:
    """A new virtual environment in ``base`` (outside the checkout), nothing installed."""
    assert ROOT not in base.parents, "the user's folders must be outside the checkout"
    root, work = base / "venv", base / "work"
    work.mkdir()
    run([PY, "-m", "venv", root], cwd=base, limit=120)
    return Venv(root=root, work=work, env=_user_env(root), wheelhouse=wheelhouse)
