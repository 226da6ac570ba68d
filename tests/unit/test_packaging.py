"""The wheel holds every package of ``connector``: `pip install .` (the README's first command)
installs only what pyproject.toml lists."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_python_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "connector").rglob("__init__.py")}
    assert found - listed == set()
