"""``prune_fields``: paths removed from a decoded document before it is sent, leaving no empty
object behind (an empty ``aws.vpcflow`` would still cost a mapping and a column)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Pruner = Callable[[dict[str, Any]], bool]


def compile_pruner(paths: Sequence[str]) -> Pruner:
    """A function that removes ``paths`` from a document and says whether it removed anything."""
    split = [tuple(path.split(".")) for path in paths]

    def prune(doc: dict[str, Any]) -> bool:
        removed = False
        for parts in split:
            removed |= _remove(doc, parts)
        return removed

    return prune


def _remove(node: dict[str, Any], parts: tuple[str, ...]) -> bool:
    head = parts[0]
    if len(parts) == 1:
        return node.pop(head, _ABSENT) is not _ABSENT
    child = node.get(head)
    if isinstance(child, dict):
        removed = _remove(child, parts[1:])
        if removed and not child:
            del node[head]
        return removed
    if isinstance(child, list):
        removed = False
        for item in child:
            if isinstance(item, dict):
                removed |= _remove(item, parts[1:])
        return removed
    return False


_ABSENT = object()
