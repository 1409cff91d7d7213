"""The sdist and the wheel, built once for the packaging tests, and their wheelhouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.packaging.kit import PY, ROOT, Built, fill_wheelhouse, run

# Not part of the source: environments, caches, what builds and runs leave behind. An
# egg-info above all: setuptools adds the files its SOURCES.txt lists to the sdist, so
# the editable install's would hide a file that package-data forgets.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "node_modules", "*.egg-info", "__pycache__", "*.pyc", "build", "dist",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "out", "*.sqlite3*",
)  # fmt: skip


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """``python -m build`` on a clean copy of the source: the sdist, then the wheel built
    from the unpacked sdist. Without build isolation (dev has build and setuptools): no
    download for it."""
    source, out = (
        tmp_path_factory.mktemp("source") / "crisp-plugin",
        tmp_path_factory.mktemp("dist"),
    )
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    run([PY, "-m", "build", "--no-isolation", "--outdir", out, source], cwd=out)
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Built(source=source, wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope="session")
def wheelhouse(built: Built) -> Path:
    return fill_wheelhouse(built.wheel)
