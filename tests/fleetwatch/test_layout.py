import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.celery_worker import celery_worker, client_app

REPO = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_platform_is_a_plain_folder_never_a_package():
    assert not (REPO / "platform" / "__init__.py").exists()


def test_platform_is_the_standard_librarys_under_pytest():
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert platform.system()  # the real module answers


def test_platform_is_the_standard_librarys_from_the_repo_root():
    out = subprocess.run(
        [sys.executable, "-c", "import platform, fleetwatch, registry; print(platform.__file__)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out).resolve().parent == STDLIB


def test_ruff_with_our_configuration_flags_a_platform_package(tmp_path):
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "platform").mkdir()
    (tmp_path / "platform" / "__init__.py").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "A005 Module `platform` shadows a Python standard-library module" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_platform_is_the_standard_librarys_inside_a_celery_worker(redis_url):
    with celery_worker(redis_url) as worker:
        result = client_app(redis_url).send_task("fleetwatch.probe_worker").get(timeout=60)
    assert Path(result["platform_module"]).resolve().parent == STDLIB
    assert result["pid"] not in (worker.pid, __import__("os").getpid())


def _installed_packages() -> list[str]:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return [pattern.removesuffix("*") for pattern in patterns]


def test_every_package_under_platform_is_in_the_install_and_in_rufs_first_party_list():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    first_party = set(config["tool"]["ruff"]["lint"]["isort"]["known-first-party"])
    under_platform = {p.name for p in (REPO / "platform").iterdir() if (p / "__init__.py").exists()}
    assert under_platform <= set(_installed_packages()), "add it to [tool.setuptools.packages.find] include"
    assert under_platform <= first_party, "add it to ruff's known-first-party"


def test_every_installed_package_imports_from_outside_the_repository_without_pythonpath(tmp_path):
    """What `celery worker` and `beat` see when started from anywhere: the install, not pytest's
    `pythonpath`. A package missing from pyproject's `include` fails here."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *_installed_packages()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
