"""Every benchmark script imports (so a moved or renamed project function breaks a test, not a user's rerun) and is
listed in bench/README.md with its command."""

from __future__ import annotations

import importlib

import pytest

from tests.helpers import REPO_ROOT

SCRIPTS = sorted(path.stem for path in (REPO_ROOT / "bench").glob("*.py") if path.stem != "__init__")


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_imports_and_has_an_entry_point(name):
    module = importlib.import_module(f"bench.{name}")
    assert name == "common" or callable(getattr(module, "main", None)), f"bench/{name}.py has no main()"


def test_readme_lists_every_file_of_bench():
    readme = (REPO_ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in (REPO_ROOT / "bench").iterdir() if path.is_file() and path.name != "README.md")
    assert [name for name in files if f"`{name}`" not in readme] == []
