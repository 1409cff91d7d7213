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
outside it, and the installed package must be the environment's own. The fresh
environment installs offline from the wheelhouse (:mod:`tests.packaging.kit`).
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import tarfile
import zipfile
from pathlib import Path

import aiohttp
import pytest

from crisp_plugin import __version__
from crisp_plugin.sandbox import SandboxControl
from tests.packaging.kit import ROOT, Built, Venv, fresh_venv, mypy_requirement, run

PACKAGE = ROOT / "crisp_plugin"
# What a missing package-data line would lose: the chat page, the routes, the types.
MUST_SHIP = [
    "crisp_plugin/py.typed",
    "crisp_plugin/rest/routes.tsv",
    "crisp_plugin/sandbox/static/index.html",
    "crisp_plugin/sandbox/static/app.js",
    "crisp_plugin/sandbox/static/control_api.js",
    "crisp_plugin/sandbox/static/style.css",
]
# What the testing extra must not pull in: the contributors' tools and the other extras.
NOT_WITH_TESTING = ["mypy", "ruff", "playwright", "crisp-api", "redis", "uvloop", "orjson", "build"]

pytestmark = pytest.mark.timeout(600)  # the first run downloads the wheelhouse


def package_files() -> list[str]:
    """Every file of the package in the checkout, as its path in the wheel."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


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
    assert sorted(extras) == ["dev", "redis", "speed", "testing", "uvloop"]
    requires = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    testing = sorted(re.split(r"[<>=;]", r)[0] for r in requires if 'extra == "testing"' in r)
    assert testing == ["pytest", "pytest-asyncio"], requires
    uvloop = [r for r in requires if r.startswith("uvloop")]
    assert uvloop and 'sys_platform != "win32"' in uvloop[0], uvloop
    newest = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert newest is not None and newest.group(1) == __version__, "CHANGELOG.md: add this release"
    assert "crisp-plugin = crisp_plugin.cli:script_main" in entry_points
    assert re.search(r"\[pytest11\]\s+crisp_plugin = crisp_plugin.testing", entry_points)


# ------------------------------------------------------------------- the fresh venv


@pytest.fixture(scope="module")
def venv(built: Built, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment with ``crisp-plugin[testing]`` installed from the wheel."""
    venv = fresh_venv(tmp_path_factory.mktemp("user"), wheelhouse)
    venv.pip_install(f"{built.wheel}[testing]")
    return venv


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
        [venv.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=venv.env,
    )  # fmt: skip
    assert re.search(r"^2 passed\b", done.stdout, re.M), done.stdout


def test_the_scaffold_type_checks_strict_against_the_installed_package(
    venv: Venv, project: Path
) -> None:
    venv.pip_install(mypy_requirement())
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
