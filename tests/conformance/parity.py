"""ECS parity with Elastic's own AWS integration fixtures.

Runs ``aws-siem-connector normalize --type <dataset> --original`` on every ``test-*.log`` of the
conformance corpus and counts how many comparable fields of the expected documents the output
reproduces. Run it directly for the report: ``python -m tests.conformance.parity``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO.parent / "shared" / "conformance" / "elastic-aws"
# Fields that depend on the GeoIP database, ingest time or Elastic's bookkeeping.
NOT_COMPARABLE_PREFIXES = ("source.geo.", "destination.geo.", "source.as.", "destination.as.", "client.geo.")
NOT_COMPARABLE = {"event.ingested", "event.created", "ecs.version", "tags"}


CORPUS_VARIABLE = "AWS_SIEM_CONNECTOR_CONFORMANCE"


def corpus_dir() -> Path:
    """The folder named by ``AWS_SIEM_CONNECTOR_CONFORMANCE``, else ``../shared/conformance/elastic-aws``
    beside the checkout. Elastic's fixtures are third-party data this repository does not ship."""
    return Path(os.environ.get(CORPUS_VARIABLE) or DEFAULT_CORPUS)


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Leaf fields by dotted path; an empty object or list is not a field."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        path = prefix + key
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        elif value in ([], {}):
            continue
        else:
            out[path] = value
    return out


def comparable(path: str) -> bool:
    """False for fields the corpus README says cannot be compared."""
    return path not in NOT_COMPARABLE and not path.startswith(NOT_COMPARABLE_PREFIXES) and \
        not path.startswith("tags")


def canonical(value: Any) -> Any:
    """Value form for comparison: one-element lists equal their element, lists compare as multisets."""
    if isinstance(value, list):
        if len(value) == 1:
            return canonical(value[0])
        return ("list", tuple(sorted(json.dumps(canonical(v), sort_keys=True, default=str) for v in value)))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


@dataclass
class Parity:
    """Matched and expected comparable fields, with the misses by field for the report."""

    matched: int = 0
    expected: int = 0
    documents: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    different: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.matched / self.expected if self.expected else 0.0

    def compare(self, expected: dict[str, Any], actual: dict[str, Any],
                patterns: dict[str, re.Pattern[str]] | None = None) -> None:
        self.documents += 1
        want = {k: v for k, v in flatten(expected).items() if comparable(k)}
        got = flatten(actual)
        for path, value in want.items():
            self.expected += 1
            if path not in got:
                self.missing[path] += 1
            elif patterns and path in patterns and isinstance(got[path], str) and patterns[path].match(got[path]):
                self.matched += 1
            elif canonical(got[path]) != canonical(value):
                self.different[path] += 1
                self.examples.setdefault(path, f"expected {value!r}, got {got[path]!r}")
            else:
                self.matched += 1


def dynamic_fields(folder: Path) -> dict[str, re.Pattern[str]]:
    """Fields the corpus compares by pattern (``dynamic_fields`` of ``test-common-config.yml``)."""
    import yaml

    config = folder / "test-common-config.yml"
    if not config.is_file():
        return {}
    loaded = yaml.safe_load(config.read_text()) or {}
    return {k: re.compile(v) for k, v in (loaded.get("dynamic_fields") or {}).items()}


def normalize_file(path: Path, dataset: str) -> list[dict[str, Any]]:
    """Run the real command line on one file and return its documents."""
    out = io.BytesIO()
    err = io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = cli_main(["normalize", "--type", dataset, "--original", str(path)])
    stdout.flush()
    if code not in (0, 1):  # 1: finished, with dead letters; the comparison counts what is missing
        raise RuntimeError(f"normalize {path} exited {code}: {err.getvalue()}")
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def is_record(doc: dict[str, Any]) -> bool:
    """False for the pipeline's output for a trailing empty line."""
    return bool(doc.get("event", {}).get("id") or doc.get("aws"))


def measure(dataset: str, corpus: Path | None = None) -> Parity:
    """Parity over every fixture pair of ``dataset`` (``vpcflow`` or ``cloudtrail``)."""
    folder = (corpus or corpus_dir()) / dataset
    result = Parity()
    patterns = dynamic_fields(folder)
    for log in sorted(folder.glob("test-*.log")):
        expected = [d for d in json.loads((folder / (log.name + "-expected.json")).read_text())["expected"]
                    if is_record(d)]
        actual = normalize_file(log, dataset)
        if dataset == "vpcflow":
            if len(actual) != len(expected):
                raise AssertionError(f"{log.name}: {len(actual)} documents for {len(expected)} expected")
            for want, got in zip(expected, actual, strict=True):
                result.compare(want, got, patterns)
        else:
            by_id: dict[str, list[dict[str, Any]]] = {}
            for doc in actual:
                by_id.setdefault(doc["event"]["id"], []).append(doc)
            seen: Counter[str] = Counter()
            for want in expected:
                event_id = want.get("event", {}).get("id")
                candidates = by_id.get(event_id, [])
                k = seen[event_id]
                seen[event_id] += 1
                if k < len(candidates):
                    result.compare(want, candidates[k], patterns)
    return result


def report(dataset: str, parity: Parity) -> str:
    """Human-readable parity report with the most frequent misses."""
    lines = [f"{dataset}: {parity.matched}/{parity.expected} comparable fields reproduced "
             f"({parity.ratio:.1%}) over {parity.documents} documents"]
    for path, count in (parity.missing + parity.different).most_common(25):
        why = parity.examples.get(path, "missing")
        lines.append(f"  {count:4d}  {path}: {why}")
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:] or ["vpcflow", "cloudtrail"]:
        print(report(name, measure(name)))
