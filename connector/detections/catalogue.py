"""What a query may name: every field the index templates map, with its type, per dataset.

A Sigma field that maps to nothing here would produce a query that can never match, so the
conversion refuses it by name. The catalogue also says which keyword fields carry a lowercase
``caseless`` sub-field (Sigma matches strings case-insensitively) and which are ``flattened``
(ES|QL cannot read their sub-fields).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from connector.normalize.specs import mappings_dir

CASELESS = "caseless"
FLATTENED_TYPES = frozenset({"flattened", "flat_object"})
DATASETS = ("aws.cloudtrail", "aws.vpcflow", "aws.config")
# ECS fields whose values the connector always writes in lower case (ECS's allowed values, the
# dataset names): a rule's value is lowered and compared exactly, no case folding needed.
LOWERCASE_VALUED = frozenset({
    "event.dataset", "event.module", "event.kind", "event.category", "event.type", "event.outcome",
    "network.transport", "network.type", "network.direction", "cloud.provider",
})


@dataclass(frozen=True)
class FieldCatalogue:
    """Field path -> mapping type, for the documents of one dataset."""

    dataset: str
    types: Mapping[str, str]
    caseless: frozenset[str]

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (path in self.types or self.flattened_root(path) is not None)

    def type_of(self, path: str) -> str | None:
        """The mapping type of ``path`` (a key inside a flattened object: the object's type)."""
        if path in self.types:
            return self.types[path]
        root = self.flattened_root(path)
        return self.types[root] if root is not None else None

    def flattened_root(self, path: str) -> str | None:
        """The flattened object that holds ``path`` as one of its keys, if any."""
        parts = path.split(".")
        for end in range(len(parts) - 1, 0, -1):
            root = ".".join(parts[:end])
            if self.types.get(root) in FLATTENED_TYPES:
                return root
        return None


def _walk(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec:
            yield from _walk(spec["properties"], path + ".")
        else:
            yield path, spec


def _component(server: str, name: str) -> Mapping[str, Any]:
    path = mappings_dir() / server / "component_templates" / f"{name}.json"
    loaded: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    properties: Mapping[str, Any] = loaded["template"].get("mappings", {}).get("properties", {})
    return properties


@cache
def catalogue(dataset: str, server: str = "elasticsearch") -> FieldCatalogue:
    """The fields of ``dataset``'s documents, multi-fields (``x.caseless``) included, read from its
    index template for ``server`` (``elasticsearch`` or ``opensearch``)."""
    index_template = mappings_dir() / server / "index_templates" / f"logs-aws_connector.{dataset[4:]}.json"
    composed = json.loads(index_template.read_text(encoding="utf-8"))["composed_of"]
    types: dict[str, str] = {}
    caseless: set[str] = set()
    for component in composed:
        for path, spec in _walk(_component(server, component)):
            types[path] = str(spec.get("type", "object"))
            for sub, sub_spec in spec.get("fields", {}).items():
                types[f"{path}.{sub}"] = str(sub_spec.get("type", "object"))
            if CASELESS in spec.get("fields", {}):
                caseless.add(path)
    return FieldCatalogue(dataset, types, frozenset(caseless))
