"""An editable install the way the README's "Type checking a plugin" says to make one
for mypy: ``pip install -e . --config-settings editable_mode=compat``.

setuptools' default editable install finds the package through an import hook, which
mypy never runs, so a plugin's ``mypy --strict`` would not see crisp_plugin; compat
mode puts the source folder on the path through a ``.pth`` file, which mypy reads. The
source is the clean copy the wheel was built from, so the checkout stays untouched.
"""

from __future__ import annotations

from pathlib import Path

from tests.packaging.kit import Built, fresh_venv, mypy_requirement, run, setuptools_requirement


def test_a_compat_editable_install_type_checks_a_new_plugin(
    built: Built, wheelhouse: Path, tmp_path: Path
) -> None:
    venv = fresh_venv(tmp_path, wheelhouse)
    venv.pip_install(setuptools_requirement(), mypy_requirement())
    venv.pip_install(
        "-e",
        f"{built.source}[testing]",
        options=("--no-build-isolation", "--config-settings", "editable_mode=compat"),
    )
    where = run(
        [venv.bin("python"), "-c", "import crisp_plugin; print(crisp_plugin.__file__)"],
        cwd=venv.work, env=venv.env,
    ).stdout.strip()  # fmt: skip
    assert Path(where) == built.source / "crisp_plugin" / "__init__.py", where
    run([venv.bin("crisp-plugin"), "init", "mybot"], cwd=venv.work, env=venv.env)
    done = run(
        [venv.bin("mypy"), "--strict", "--cache-dir", venv.work / ".mypy_cache", "."],
        cwd=venv.work / "mybot", env=venv.env,
    )  # fmt: skip
    assert done.stdout.startswith("Success: no issues found in 3 source files"), done.stdout
