"""Locates and loads the declarative mapping specs (``mappings/*.yaml``) once per process."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from connector.errors import ConfigError

# LibYAML's parser (bundled with PyYAML's wheels) reads the specs ten times faster than the
# pure-Python one; the specs are read at every start, so this is start-up time.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def mappings_dir() -> Path:
    """The ``mappings/`` folder: packaged inside the wheel, or beside the package in a checkout."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_mappings"
    if (packaged / "vpcflow.yaml").is_file():
        return packaged
    return package.parent / "mappings"


@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """Parse ``mappings/<name>.yaml``; a broken spec is a configuration error naming the file."""
    path = mappings_dir() / f"{name}.yaml"
    try:
        spec = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"mapping spec {path}: {exc}") from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"mapping spec {path}: expected a mapping at the top level")
    return spec
