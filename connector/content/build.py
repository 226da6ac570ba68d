"""Every generated content file under ``deploy/``, from the one set of sources.

``rendered()`` maps each file's path (relative to the repository's ``deploy/``) to its bytes;
``aws-siem-connector content build`` writes them, and a test checks the committed files equal them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

# deploy/ path -> the generator of its objects (each an importable saved object, rule or monitor).
KIBANA_SAVED_OBJECTS = "kibana/saved-objects.ndjson"
KIBANA_DETECTION_RULES = "kibana/detection-rules.ndjson"
OPENSEARCH_DASHBOARDS_SAVED_OBJECTS = "opensearch-dashboards/saved-objects.ndjson"
OPENSEARCH_MONITORS_DIR = "opensearch/monitors"


def ndjson(objects: Iterable[dict[str, Any]]) -> bytes:
    """One JSON object per line, keys in a stable order, so the files diff cleanly."""
    return b"".join(orjson.dumps(o, option=orjson.OPT_SORT_KEYS) + b"\n" for o in objects)


def pretty(obj: dict[str, Any]) -> bytes:
    """An indented JSON document (one OpenSearch monitor per file)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def _generators() -> list[tuple[str, Callable[[], bytes | dict[str, bytes]]]]:
    from connector.content import elastic_rules, kibana, opensearch_dashboards, opensearch_monitors

    return [
        (KIBANA_SAVED_OBJECTS, lambda: ndjson(kibana.saved_objects())),
        (KIBANA_DETECTION_RULES, lambda: ndjson(elastic_rules.detection_rules())),
        (OPENSEARCH_DASHBOARDS_SAVED_OBJECTS, lambda: ndjson(opensearch_dashboards.saved_objects())),
        (OPENSEARCH_MONITORS_DIR, lambda: {f"{name}.json": pretty(m)
                                           for name, m in opensearch_monitors.monitors().items()}),
    ]


def rendered() -> dict[str, bytes]:
    """deploy/-relative path -> the file's bytes, for every generated file."""
    files: dict[str, bytes] = {}
    for path, generate in _generators():
        made = generate()
        if isinstance(made, dict):
            files.update({f"{path}/{name}": body for name, body in made.items()})
        else:
            files[path] = made
    return files


def stale(deploy_dir: Path) -> list[str]:
    """The generated files under ``deploy_dir`` that are missing, differ, or should not be there."""
    wanted = rendered()
    problems = [path for path, body in sorted(wanted.items())
                if not (deploy_dir / path).is_file() or (deploy_dir / path).read_bytes() != body]
    monitors = deploy_dir / OPENSEARCH_MONITORS_DIR
    if monitors.is_dir():
        problems += [f"{OPENSEARCH_MONITORS_DIR}/{p.name}" for p in sorted(monitors.glob("*.json"))
                     if f"{OPENSEARCH_MONITORS_DIR}/{p.name}" not in wanted]
    return problems


def write(deploy_dir: Path) -> list[str]:
    """Write every generated file under ``deploy_dir`` (removing monitors no rule makes any more)."""
    wanted = rendered()
    monitors = deploy_dir / OPENSEARCH_MONITORS_DIR
    if monitors.is_dir():
        for old in monitors.glob("*.json"):
            if f"{OPENSEARCH_MONITORS_DIR}/{old.name}" not in wanted:
                old.unlink()
    for path, body in wanted.items():
        target = deploy_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return sorted(wanted)
