"""crisp-plugin as a user installs it: the sdist and the wheel built from it, the wheel
installed with only the ``testing`` extra into a fresh virtual environment outside the
checkout, and used there the way the README says.

- The wheel (built from the sdist, so the sdist is complete too) holds every file of
  the package: the chat page, routes.tsv, py.typed; its metadata carries the version of
  crisp_plugin/version.py, the ``crisp-plugin`` command, the pytest plugin and the
  extras.
- In the fresh environment: ``crisp-plugin --version`` and ``--help`` (the module's help
  under the command's name), ``crisp-plugin init``, the scaffold's own tests with that
  environment's pytest, ``mypy --strict`` on the scaffold (mypy installed there for this
  check only) and ``crisp-plugin run`` on the embedded sandbox until a visitor's "hello"
  is answered, driven over HTTP through the sandbox's control API, then SIGTERM, exit 0.

Nothing runs from the checkout there: no PYTHONPATH, no user site, the working folders
outside it, and the installed package must be the environment's own. The wheels the
fresh environment installs come from a wheelhouse next to the running interpreter's
environment, filled by ``pip download`` when pyproject.toml's dependencies change and
installed offline (``--no-index``) otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from crisp_plugin import __version__
from crisp_plugin.sandbox import SandboxControl

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
PACKAGE = ROOT / "crisp_plugin"
# What a missing package-data line would lose: the chat page, the routes, the types.
MUST_SHIP = [
    "crisp_plugin/py.typed",
    "crisp_plugin/rest/routes.tsv",
    "crisp_plugin/sandbox/static/index.html",
    "crisp_plugin/sandbox/static/app.js",
    "crisp_plugin/sandbox/static/style.css",
]
# What the testing extra must not pull in: the contributors' tools and the other extras.
NOT_WITH_TESTING = ["mypy", "ruff", "playwright", "crisp-api", "redis", "uvloop", "build"]

pytestmark = pytest.mark.timeout(600)  # the first run downloads the wheelhouse


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


def package_files() -> list[str]:
    """Every file of the package in the checkout, as its path in the wheel."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


@dataclass
class Built:
    wheel: Path
    sdist: Path


# Not part of the source: environments, caches, what builds and runs leave behind. An
# egg-info above all: setuptools adds the files its SOURCES.txt lists to the sdist, so
# the editable install's would hide a file that package-data forgets.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "node_modules", "*.egg-info", "__pycache__", "*.pyc", "build", "dist",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "out", "*.sqlite3*",
)  # fmt: skip


@pytest.fixture(scope="module")
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
    return Built(wheel=wheels[0], sdist=sdists[0])


def test_the_sdist_and_the_wheel_hold_every_file_of_the_package(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    with tarfile.open(built.sdist) as sdist:
        top = f"crisp_plugin-{__version__}/"
        in_sdist = {name.removeprefix(top) for name in sdist.getnames()}
    expected = package_files()
    assert set(MUST_SHIP) <= set(expected)
    missing = [name for name in expected if name not in in_wheel]
    assert not missing, f"the wheel misses {missing}: add them to [tool.setuptools.package-data]"
    missing = [name for name in expected if name not in in_sdist]
    assert not missing, f"the sdist misses {missing}"
    assert {"pyproject.toml", "README.md"} <= in_sdist


def test_the_wheel_metadata_names_the_version_the_command_and_the_extras(built: Built) -> None:
    assert built.wheel.name == f"crisp_plugin-{__version__}-py3-none-any.whl"
    info = f"crisp_plugin-{__version__}.dist-info"
    with zipfile.ZipFile(built.wheel) as wheel:
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    extras = re.findall(r"^Provides-Extra: (\S+)$", metadata, re.M)
    assert sorted(extras) == ["dev", "redis", "testing", "uvloop"]
    requires = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    testing = sorted(re.split(r"[<>=;]", r)[0] for r in requires if 'extra == "testing"' in r)
    assert testing == ["pytest", "pytest-asyncio"], requires
    uvloop = [r for r in requires if r.startswith("uvloop")]
    assert uvloop and 'sys_platform != "win32"' in uvloop[0], uvloop
    assert "crisp-plugin = crisp_plugin.cli:script_main" in entry_points
    assert re.search(r"\[pytest11\]\s+crisp_plugin = crisp_plugin.testing", entry_points)


# ------------------------------------------------------------------- the fresh venv


@dataclass
class Venv:
    root: Path
    work: Path  # a folder of the user's, outside the checkout
    env: dict[str, str]
    wheelhouse: Path

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name


def _mypy_requirement() -> str:
    """The mypy the contributors' checks run, for the scaffold's check."""
    return f"mypy=={importlib.metadata.version('mypy')}"


def _wheelhouse(wheel: Path) -> Path:
    """The wheels ``<wheel>[testing]`` and mypy need, downloaded once per set of
    dependencies next to the running environment, then reused offline."""
    wheelhouse = Path(sys.prefix) / "crisp-plugin-wheelhouse"
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read(f"crisp_plugin-{__version__}.dist-info/METADATA").decode()
    requires = "\n".join(re.findall(r"^Requires-Dist: .+$", metadata, re.M))
    key = "\n".join([requires, _mypy_requirement(), platform.python_version(), sys.platform])
    want = hashlib.sha256(key.encode()).hexdigest()
    stamp = wheelhouse / ".stamp"
    if stamp.is_file() and stamp.read_text() == want:
        return wheelhouse
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    run(
        [PY, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--dest", wheelhouse,
         f"{wheel}[testing]", _mypy_requirement()],
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


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment with ``crisp-plugin[testing]`` installed from the wheel."""
    base = tmp_path_factory.mktemp("user")
    assert ROOT not in base.parents, "the user's folders must be outside the checkout"
    root, work = base / "venv", base / "work"
    work.mkdir()
    run([PY, "-m", "venv", root], cwd=base, limit=120)
    env = _user_env(root)
    wheelhouse = _wheelhouse(built.wheel)
    run(
        [root / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", "--find-links",
         wheelhouse, f"{built.wheel}[testing]"],
        cwd=work, env=env,
    )  # fmt: skip
    return Venv(root=root, work=work, env=env, wheelhouse=wheelhouse)


def test_the_installed_package_is_the_environments_own_with_only_testing(venv: Venv) -> None:
    where = run(
        [venv.bin("python"), "-c", "import crisp_plugin; print(crisp_plugin.__file__)"],
        cwd=venv.work, env=venv.env,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(venv.root / "lib"), where
    listed = run([venv.bin("python"), "-m", "pip", "list"], cwd=venv.work, env=venv.env).stdout
    names = {line.split()[0].lower() for line in listed.splitlines()[2:] if line.strip()}
    assert {"crisp-plugin", "pytest", "pytest-asyncio", "aiohttp", "pydantic"} <= names
    assert not names & set(NOT_WITH_TESTING), names & set(NOT_WITH_TESTING)


def test_the_command_says_its_version_and_its_help(venv: Venv) -> None:
    version = run([venv.bin("crisp-plugin"), "--version"], cwd=venv.work, env=venv.env)
    assert version.stdout == f"crisp-plugin {__version__}\n"
    script = run([venv.bin("crisp-plugin"), "--help"], cwd=venv.work, env=venv.env).stdout
    module = run(
        [venv.bin("python"), "-m", "crisp_plugin", "--help"], cwd=venv.work, env=venv.env
    ).stdout
    assert script.startswith("usage: crisp-plugin ")
    for command in ("run", "check", "events", "init", "sandbox"):
        assert re.search(rf"^\s+{command}\s", script, re.M), (command, script)

    def flat(text: str) -> str:
        return " ".join(text.split())

    assert flat(script) == flat(module.replace("python -m crisp_plugin", "crisp-plugin"))
    events = run([venv.bin("crisp-plugin"), "events"], cwd=venv.work, env=venv.env).stdout
    assert events.splitlines()[-1] == "82 events"
    no_command = subprocess.run(
        [venv.bin("crisp-plugin")], cwd=venv.work, env=venv.env, capture_output=True, text=True
    )
    assert no_command.returncode == 2 and "usage: crisp-plugin" in no_command.stderr


@pytest.fixture(scope="module")
def project(venv: Venv) -> Path:
    """``crisp-plugin init mybot`` in the user's folder."""
    done = run([venv.bin("crisp-plugin"), "init", "mybot"], cwd=venv.work, env=venv.env)
    assert "next: cd mybot && crisp-plugin run plugin.toml" in done.stdout
    return venv.work / "mybot"


def test_the_scaffold_passes_its_own_tests_with_the_environments_pytest(
    venv: Venv, project: Path
) -> None:
    done = run(
        [venv.bin("pytest"), "-q", "-p", "no:cacheprovider"], cwd=project, env=venv.env
    )  # fmt: skip
    assert re.search(r"^2 passed\b", done.stdout, re.M), done.stdout


def test_the_scaffold_type_checks_strict_against_the_installed_package(
    venv: Venv, project: Path
) -> None:
    run(
        [venv.bin("python"), "-m", "pip", "install", "-q", "--no-index", "--find-links",
         venv.wheelhouse, _mypy_requirement()],
        cwd=venv.work, env=venv.env,
    )  # fmt: skip
    cache = venv.work / ".mypy_cache"
    done = run(
        [venv.bin("mypy"), "--strict", "--cache-dir", cache, "."], cwd=project, env=venv.env
    )  # fmt: skip
    assert done.stdout.startswith("Success: no issues found in 3 source files"), done.stdout


async def _read_until(stream: asyncio.StreamReader, pattern: str, within: float) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while not (match := re.search(pattern, seen)):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the process ended before printing {pattern!r}:\n{seen}")
            seen += line.decode()
    return match.group(1)


async def test_run_on_the_embedded_sandbox_answers_a_visitors_hello(
    venv: Venv, project: Path
) -> None:
    proc = await asyncio.create_subprocess_exec(
        venv.bin("crisp-plugin"), "run", "plugin.toml",
        cwd=project, env={**venv.env, "CRISP_SANDBOX_PORT": "0"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        page = await _read_until(
            proc.stdout, r"chat as a visitor at (http://127\.0\.0\.1:\d+)/", 60
        )
        await _read_until(proc.stdout, r"(plugin running)", 30)
        async with aiohttp.ClientSession() as http:  # the chat page came with the wheel
            for path, kind in [("/", "text/html"), ("/static/app.js", "javascript")]:
                async with http.get(page + path) as answer:
                    assert answer.status == 200 and kind in answer.content_type, path
        async with SandboxControl(page) as control:
            session = await control.create_conversation(None)
            await control.visitor_says(None, session, "hello")
            reply = await control.next_reply(None, session, timeout=10)
        assert reply is not None, "the scaffolded bot did not answer"
        assert "How can I help" in reply["content"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
