"""Console scripts from [project.scripts]: installed (editable, no dependencies) into a fresh venv that borrows this
interpreter's packages, each answers --help, and one runs a real job with the same Hydra overrides as ``python -m``.
The borrowing venv works the same from the system interpreter and from a venv (a venv inside a venv is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from review_cls.command_help import COMMANDS, SCRIPT_PREFIX
from tests.helpers import REPO_ROOT, venv_borrowing_packages


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's bin folder after ``pip install --no-deps -e <repo>``."""
    venv = tmp_path_factory.mktemp("venv")
    # no pip of its own: this interpreter's pip and setuptools (the dev extra's floor) do the install
    python = venv_borrowing_packages(venv)
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
               "--no-deps", "--no-build-isolation", "--no-index", "-e", str(REPO_ROOT)]
    result = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return venv / "bin"


def test_pyproject_declares_one_script_per_command():
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert declared == {f"{SCRIPT_PREFIX}{name}": f"review_cls.{name}:main" for name in COMMANDS}


@pytest.mark.parametrize("name", COMMANDS)
def test_script_shows_the_commands_help(scripts, name):
    result = subprocess.run([str(scripts / f"{SCRIPT_PREFIX}{name}"), "--help"], capture_output=True, text=True,
                            timeout=120, cwd=scripts.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"python -m review_cls.{name} " in result.stdout and f"conf/{name}.yaml" in result.stdout


def test_export_script_runs_a_real_job(scripts, tiny_checkpoint, tmp_path):
    out = tmp_path / "model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([str(scripts / "review-cls-export"), f"ckpt_path={tiny_checkpoint}", f"out={out}"],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    missing = subprocess.run([str(scripts / "review-cls-export"), f"ckpt_path={tmp_path / 'no.ckpt'}", "out=x"],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr  # the project's own error, no traceback


def test_a_venv_inside_a_venv_sees_the_outer_venvs_packages(tmp_path):
    """The outer venv holds a package its base interpreter lacks (as a fresh venv holds its newer setuptools): the
    venv made from it must see that package, which ``--system-site-packages`` would hide."""
    outer = venv_borrowing_packages(tmp_path / "outer")
    outer_site = subprocess.run([str(outer), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                check=True, capture_output=True, text=True).stdout.strip()
    (Path(outer_site) / "only_in_outer_venv.py").write_text("WHERE = 'outer'\n")
    make_inner = f"from pathlib import Path; from tests.helpers import venv_borrowing_packages as v; print(v(Path({str(tmp_path / 'inner')!r})))"
    inner = subprocess.run([str(outer), "-c", make_inner], check=True, capture_output=True, text=True,
                           cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}).stdout.strip()
    seen = subprocess.run([inner, "-c", "import only_in_outer_venv, setuptools; print(only_in_outer_venv.WHERE)"],
                          capture_output=True, text=True)
    assert seen.returncode == 0 and seen.stdout.strip() == "outer", seen.stderr[-2000:]
