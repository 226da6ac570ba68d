"""Record path -> document path specs compiled into builder functions, and the time conversion
they share: per-record work is a few dict operations per present field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def iso_millis(value: Any) -> str:
    """Any ISO 8601 time AWS writes -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC)."""
    text = str(value)
    if len(text) == 20 and text[-1] == "Z" and text[10] == "T":  # the common 2026-11-27T10:00:00Z
        return text[:-1] + ".000Z"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


_PLACEHOLDERS = frozenset(("Not Applicable", "-", "N/A"))


class FieldMoves:
    """The plain part of a spec (record path -> document paths, with a conversion) plus constant
    fields, compiled once into a Python function that builds the document.

    The generated code walks the record with nested ``get`` calls on locals and fills
    pre-created containers, so the per-record work is a few dict operations per present field.
    When several record paths fill the same document path, the one listed later in the spec wins.
    """

    def __init__(self, fields: dict[str, dict[str, Any]], constants: dict[str, Any] | None = None) -> None:
        source, namespace = _generate_builder(fields, constants or {})
        exec(compile(source, "<field moves>", "exec"), namespace)
        self.build: Callable[[dict[str, Any], dict[str, list[Any]]], dict[str, Any]] = namespace["build"]
        self.source = source  # kept for debugging


def _container_anchors(rules: list[tuple[str, dict[str, Any]]], writers: dict[str, list[int]],
                       constants: dict[str, Any], containers: dict[tuple[str, ...], str]
                       ) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Containers filled only from inside one record object -> that object's path.

    Such a container is created where the generated code has found the object, instead of on
    every record: records mostly lack the optional objects (``addendum``, ``onBehalfOf``...).
    A container that takes a constant or a contested target stays created up front.
    """
    fixed = {tuple(dotted.split(".")[:-1]) for dotted in constants}
    fixed |= {tuple(dotted.split(".")[:-1]) for dotted, indexes in writers.items() if len(indexes) > 1}
    blocks: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for source, rule in rules:
        block = tuple(source.split(".")[:-1])
        for dotted in rule["to"]:
            if len(writers[dotted]) == 1:
                parts = tuple(dotted.split(".")[:-1])
                for depth in range(1, len(parts) + 1):
                    blocks.setdefault(parts[:depth], []).append(block)
    anchors: dict[tuple[str, ...], tuple[str, ...]] = {}
    for path in containers:
        if not path or path not in blocks or any(f[:len(path)] == path for f in fixed):
            continue
        common = blocks[path][0]
        for block in blocks[path][1:]:
            n = 0
            while n < min(len(common), len(block)) and common[n] == block[n]:
                n += 1
            common = common[:n]
        if common:
            anchors[path] = common
    return anchors


def _generate_builder(fields: dict[str, dict[str, Any]], constants: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    namespace: dict[str, Any] = {"PLACEHOLDERS": _PLACEHOLDERS, "ISO": iso_millis}
    containers: dict[tuple[str, ...], str] = {(): "doc"}

    def container(path: tuple[str, ...]) -> str:
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub not in containers:
                containers[sub] = "c_" + "_".join(p.replace("@", "at_") for p in sub) + f"_{len(containers)}"
        return containers[path]

    def target(dotted: str) -> tuple[str, str]:
        parts = tuple(dotted.split("."))
        return container(parts[:-1]), parts[-1]

    init: dict[str, list[str]] = {}
    for n, (dotted, value) in enumerate(constants.items()):
        var, key = target(dotted)
        namespace[f"K{n}"] = value
        init.setdefault(var, []).append(f"{key!r}: K{n}")

    # Targets filled from several record paths: the later spec entry wins, resolved at the end.
    writers: dict[str, list[int]] = {}
    rules = list(fields.items())
    for index, (_source, rule) in enumerate(rules):
        if rule.get("type", "string") not in ("string", "iso_time", "text", "aws_optional"):
            raise ValueError(f"field {_source}: unknown type {rule.get('type')!r}")
        for dotted in rule["to"]:
            writers.setdefault(dotted, []).append(index)

    target_number = {dotted: n for n, dotted in enumerate(writers)}
    trie: dict[str, Any] = {}
    for index, (source_path, _rule) in enumerate(rules):
        node = trie
        for part in source_path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("\0", []).append(index)

    for dotted in writers:
        target(dotted)
    anchors = _container_anchors(rules, writers, constants, containers)
    body: list[str] = []
    pending: list[str] = []  # "m_<index>_<n>" locals for contested targets
    counter = [0]

    def walk(node: dict[str, Any], var: str, indent: str, at: tuple[str, ...] = ()) -> None:
        for key, child in node.items():
            if key == "\0":
                continue
            counter[0] += 1
            v = f"x{counter[0]}"
            body.append(f"{indent}{v} = {var}.get({key!r})")
            for index in child.get("\0", []):
                rule = rules[index][1]
                kind = rule.get("type", "string")
                body.append(f"{indent}if {v} is not None and {v} != '':")
                inner = indent + "    "
                value = v
                if kind == "iso_time":
                    body.append(f"{inner}y = ISO({v})")
                    value = "y"
                elif kind == "text":
                    body.append(f"{inner}y = str({v})")
                    value = "y"
                elif kind == "aws_optional":
                    body.append(f"{inner}if {v} not in PLACEHOLDERS:")
                    inner += "    "
                for dotted in rule["to"]:
                    if len(writers[dotted]) > 1:
                        local = f"m_{index}_{target_number[dotted]}"
                        pending.append(local)
                        body.append(f"{inner}{local} = {value}")
                    else:
                        cvar, ckey = target(dotted)
                        body.append(f"{inner}{cvar}[{ckey!r}] = {value}")
                related = rule.get("related")
                if related:
                    body.append(f"{inner}bucket = related.setdefault({related!r}, [])")
                    body.append(f"{inner}if {value} not in bucket:")
                    body.append(f"{inner}    bucket.append({value})")
            if any(k != "\0" for k in child):
                body.append(f"{indent}if type({v}) is dict:")
                inside = (*at, key)
                for path, anchor in anchors.items():
                    if anchor == inside:
                        body.append(f"{indent}    {containers[path]} = {{}}")
                walk(child, v, indent + "    ", inside)

    walk(trie, "rec", "    ")
    for dotted, indexes in writers.items():
        if len(indexes) < 2:
            continue
        cvar, ckey = target(dotted)
        locals_ = [f"m_{i}_{target_number[dotted]}" for i in indexes]
        body.append(f"    for value in ({', '.join(reversed(locals_))}):")
        body.append("        if value is not None:")
        body.append(f"            {cvar}[{ckey!r}] = value")
        body.append("            break")
    for path in sorted(containers, key=len, reverse=True):
        if path:
            body.append(f"    if {containers[path]}:")
            body.append(f"        {containers[path[:-1]]}[{path[-1]!r}] = {containers[path]}")
    body.append("    return doc")
    head = ["def build(rec, related):"]
    for path, var in sorted(containers.items(), key=lambda kv: len(kv[0])):
        if path in anchors:
            head.append(f"    {var} = None")
        else:
            head.append(f"    {var} = {{{', '.join(init.get(var, []))}}}")
    head += [f"    {local} = None" for local in dict.fromkeys(pending)]
    return "\n".join(head + body) + "\n", namespace
