"""``related.entity`` and ``target.entity.id`` for CloudTrail records (``mappings/cloudtrail_entities.yaml``).

Who acted comes from ``userIdentity``; what was acted on from ``resources[].ARN`` and from the
request/response fields the table names per API. Paths are split once, at load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.errors import ConfigError
from connector.normalize.specs import load_spec

# Paths compiled into a tree of keys, so that shared prefixes (``userIdentity.``) are walked
# once per record; the key "" marks a node whose values are collected.
Tree = dict[str, Any]
_HERE = ""


def _tree(paths: list[Any]) -> Tree:
    root: Tree = {}
    for text in paths:
        keys = text.split(".") if isinstance(text, str) else [""]
        if "" in keys:
            raise ConfigError(f"cloudtrail_entities.yaml: a path must be non-empty text, got {text!r}")
        node = root
        for key in keys:
            node = node.setdefault(key, {})
        node[_HERE] = True
    return root


def _collect(node: Any, tree: Tree, out: list[str]) -> None:
    """Append the non-empty strings ``tree`` names below ``node``, walking through lists."""
    if isinstance(node, list):
        for item in node:
            _collect(item, tree, out)
        return
    if not isinstance(node, dict):
        return
    for key, sub in tree.items():
        if key == _HERE:
            continue
        child = node.get(key)
        if child is None:
            continue
        if _HERE in sub:
            if isinstance(child, str):
                if child:
                    out.append(child)
            elif isinstance(child, list):
                out.extend(v for v in child if isinstance(v, str) and v)
        if len(sub) > 1 or _HERE not in sub:
            _collect(child, sub, out)


_RESOURCE_ARN = _tree(["ARN"])


Collector = Callable[[Any, list[str]], None]


def _nothing(node: Any, out: list[str]) -> None:
    """The collector of an empty path list."""


def _compile(tree: Tree) -> Collector:
    """``_collect`` for one tree, unrolled into straight-line code (lists still go through
    ``_collect``): the table runs on every record, and the unrolled walk costs a fraction.
    An empty tree gets ``_nothing``, which ``apply`` does not even call."""
    if not tree:
        return _nothing
    lines = ["def collect(node, out):", "    if node.__class__ is not dict:", "        _collect(node, TREE, out)",
             "        return"]
    subtrees: dict[str, Tree] = {"TREE": tree}

    def walk(node: str, sub: Tree, depth: int) -> None:
        pad = "    " * depth
        for n, (key, child) in enumerate(sub.items()):
            if key == _HERE:
                continue
            name = f"{node}_{n}"
            lines.append(f"{pad}{name} = {node}.get({key!r})")
            if _HERE in child:
                lines.append(f"{pad}if {name}.__class__ is str:")
                lines.append(f"{pad}    if {name}:")
                lines.append(f"{pad}        out.append({name})")
                lines.append(f"{pad}elif {name}.__class__ is list:")
                lines.append(f"{pad}    out.extend(v for v in {name} if v.__class__ is str and v)")
            deeper = {k: v for k, v in child.items() if k != _HERE}
            if deeper:
                const = f"TREE_{len(subtrees)}"
                subtrees[const] = deeper
                lines.append(f"{pad}if {name}.__class__ is dict:")
                walk(name, deeper, depth + 1)
                lines.append(f"{pad}elif {name}.__class__ is list:")
                lines.append(f"{pad}    _collect({name}, {const}, out)")

    walk("node", tree, 1)
    namespace: dict[str, Any] = {"_collect": _collect, **subtrees}
    exec(compile("\n".join(lines) + "\n", "<cloudtrail entity paths>", "exec"), namespace)
    collect: Collector = namespace["collect"]
    return collect


class EntityTable:
    """The compiled entity rules: ``apply(record, doc)`` fills the two fields when it finds values."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        spec = spec if spec is not None else load_spec("cloudtrail_entities")
        self._actor = _compile(_tree(spec.get("actor") or []))
        self._exact: dict[str, tuple[Collector, Collector]] = {}
        self._prefixed: list[tuple[str, tuple[Collector, Collector]]] = []
        self._resolved: dict[str, tuple[Collector, Collector] | None] = {}
        for name, rule in (spec.get("apis") or {}).items():
            if not isinstance(rule, dict) or set(rule) - {"targets", "related"}:
                raise ConfigError(f"cloudtrail_entities.yaml: {name}: expected targets and/or related lists")
            trees = (_compile(_tree(rule.get("targets") or [])), _compile(_tree(rule.get("related") or [])))
            if str(name).endswith("*"):
                self._prefixed.append((str(name)[:-1], trees))
            else:
                self._exact[str(name)] = trees

    def _rule(self, event_name: Any) -> tuple[Collector, Collector] | None:
        if event_name.__class__ is not str:
            return None
        if event_name in self._resolved:
            return self._resolved[event_name]
        rule = self._exact.get(event_name)
        if rule is None:
            rule = next((paths for prefix, paths in self._prefixed if event_name.startswith(prefix)), None)
        if len(self._resolved) >= 4096:  # a bound on names never seen in the table
            self._resolved.clear()
        self._resolved[event_name] = rule
        return rule

    def apply(self, rec: dict[str, Any], doc: dict[str, Any]) -> None:
        """Add ``related.entity`` (actors, then targets, then the rest) and ``target.entity.id``."""
        found: list[str] = []
        self._actor(rec, found)
        targets: list[str] = []
        resources = rec.get("resources")
        if resources.__class__ is list:
            _collect(resources, _RESOURCE_ARN, targets)
        rule = self._rule(rec.get("eventName"))
        if rule is not None and rule[0] is not _nothing:
            rule[0](rec, targets)
        found.extend(targets)
        if rule is not None and rule[1] is not _nothing:
            rule[1](rec, found)
        if found:
            doc.setdefault("related", {})["entity"] = list(dict.fromkeys(found))
        if targets:
            doc.setdefault("target", {})["entity"] = {"id": list(dict.fromkeys(targets))}
