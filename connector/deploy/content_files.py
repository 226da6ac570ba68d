"""Where the generated content comes from, and its objects as the deploy targets see them.

The files are those ``aws-siem-connector content build`` writes under ``deploy/`` (paths in
``connector.content.build``); the package ships them as ``connector/_deploy``, a checkout has them
in ``deploy/``, and ``--content-dir`` names another folder of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connector.errors import ConfigError


@dataclass(frozen=True)
class ContentObject:
    """One object to install: how the report names it, and its NDJSON line (``body`` parsed)."""

    type: str
    id: str
    title: str
    body: dict[str, Any]
    line: bytes = b""

    @property
    def label(self) -> str:
        """``dashboard aws-connector-network "AWS network: VPC flow logs"``."""
        return f'{self.type} {self.id} "{self.title}"'


def content_root(content_dir: str | None) -> Path:
    """``--content-dir`` when given, else the files shipped in the package, else a checkout's ``deploy/``."""
    if content_dir:
        root = Path(content_dir)
        if not root.is_dir():
            raise ConfigError(f"--content-dir {content_dir}: no such folder")
        return root
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_deploy"
    return packaged if packaged.is_dir() else package.parent / "deploy"


def content_path(root: Path, relative: str) -> Path:
    """``root / relative``, or a configuration error that says how to get the file."""
    path = root / relative
    if not path.exists():
        raise ConfigError(
            f"{path} not found: pass --content-dir DIR, a folder holding {relative}"
            " (aws-siem-connector content build --out DIR writes it)"
        )
    return path


def _ndjson(path: Path) -> list[tuple[bytes, dict[str, Any]]]:
    objects = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise ConfigError(f"{path}:{number}: expected a JSON object")
        objects.append((line, body))
    return objects


def saved_objects_in(path: Path) -> list[ContentObject]:
    """The saved objects of an export file (Kibana or OpenSearch Dashboards); the export's summary
    line, which has no ``type`` and ``id``, is left out."""
    found = []
    for line, body in _ndjson(path):
        if "type" not in body or "id" not in body:
            continue
        attributes = body.get("attributes") or {}
        title = attributes.get("name") or attributes.get("title") or ""
        found.append(ContentObject(str(body["type"]), str(body["id"]), str(title), body, line))
    return found


def detection_rules_in(path: Path) -> list[ContentObject]:
    """The Elastic Security rules of an NDJSON file, each known by its ``rule_id``."""
    found = []
    for line, body in _ndjson(path):
        if "rule_id" not in body:
            raise ConfigError(f"{path}: a rule without rule_id ({str(body.get('name', '?'))[:80]})")
        found.append(ContentObject("rule", str(body["rule_id"]), str(body.get("name", "")), body, line))
    return found


def monitors_in(folder: Path) -> list[ContentObject]:
    """The OpenSearch Alerting monitors of ``folder/*.json``, each known by its file name and ``name``."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            body = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not JSON ({exc})") from None
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise ConfigError(f"{path}: expected a monitor, a JSON object with a name")
        found.append(ContentObject("monitor", path.stem, body["name"], body))
    return found
