"""Sigma rule files in, rules out: every file that loads, and a refusal naming each one that does not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.normalize.specs import mappings_dir


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule file, or one rule in it, that could not become a query, and why."""

    path: str
    reason: str

    def line(self) -> str:
        """``RULE_FILE: reason``, the line printed on stderr."""
        return f"{self.path}: {self.reason}"


def bundled_rules_dir() -> Path:
    """The rules that ship with the connector."""
    return mappings_dir() / "sigma" / "rules"


def rule_file(rule: Any) -> str:
    """The file a loaded rule came from."""
    source = getattr(rule, "source", None)
    return str(getattr(source, "path", None) or "<rule>")


def one_line(text: str) -> str:
    """A message on one line, for stderr."""
    return " ".join(text.split())


def load_rules(paths: Sequence[Path]) -> tuple[Any, list[Refusal]]:
    """The collection of every rule in ``paths`` that loads (correlations resolved against all of
    them), and a refusal for each file that does not load."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError, SigmaRuleLocation

    collections = []
    refused: list[Refusal] = []
    for path in SigmaCollection.resolve_paths(list(paths), "**/*.yml"):
        try:
            text = path.read_text(encoding="utf-8")
            collections.append(SigmaCollection.from_yaml(text, source=SigmaRuleLocation(path),
                                                         resolve_references=False))
        except yaml.YAMLError as exc:
            refused.append(Refusal(str(path), one_line(f"not valid YAML: {exc}")))
        except UnicodeDecodeError:
            refused.append(Refusal(str(path), "not UTF-8 text"))
        except SigmaError as exc:
            refused.append(Refusal(str(path), one_line(f"not a valid Sigma rule: {exc}")))
    try:
        merged = SigmaCollection.merge(collections)
    except SigmaError:
        # A correlation that names a rule not loaded: convert the rest; that one fails on its own.
        merged = SigmaCollection.merge(collections, resolve_references=False)
    return merged, refused
