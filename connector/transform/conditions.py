"""The ``when`` of a filter rule, compiled once into a predicate over a decoded ECS document.

Each entry names a field by its ECS path and a condition: a scalar (equals), a list (equals any
of), or a mapping of operators that must all hold. A field holding a list (``event.type``,
``related.ip``) satisfies a value test when any of its elements does, as in Elasticsearch.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]
ValueTest = Callable[[Any], bool]
OPERATORS = ("equals", "in", "prefix", "suffix", "contains", "cidr", "regex", "exists", "not")
_MISSING = object()
_MAX_CACHED_ADDRESSES = 65536


class ConditionError(ValueError):
    """A condition that cannot be compiled; the message names the field and what is wrong."""


def compile_when(when: Mapping[str, Any], flat: bool = False) -> Predicate:
    """One predicate for a whole ``when`` mapping: every entry must hold (no entry: always true).
    ``flat``: the predicate reads a ``{dotted path: value}`` view (the flow-log fast path's)
    instead of a document."""
    tests = [_field_test(str(path), condition, flat) for path, condition in when.items()]
    if not tests:
        return lambda doc: True
    # Chained closures rather than all() over a generator: this runs once per document.
    predicate = tests[-1]
    for test in reversed(tests[:-1]):
        predicate = _both(test, predicate)
    return predicate


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda doc: first(doc) and second(doc)


def field_value(doc: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at ``parts`` (a list when the path crosses a list of objects), or ``_MISSING``."""
    value: Any = doc
    for index, part in enumerate(parts):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
            if value is _MISSING:
                return _MISSING
        elif isinstance(value, list):
            found = [field_value(item, parts[index:]) for item in value if isinstance(item, dict)]
            found = [v for v in found if v is not _MISSING]
            return _flatten(found) if found else _MISSING
        else:
            return _MISSING
    return _MISSING if value is None else value


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


def _getter(parts: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """``field_value`` for one path; the usual two- and three-level paths through plain objects
    take a shortcut (this runs for every document a rule applies to)."""
    if len(parts) == 2:
        first, second = parts

        def two(doc: Mapping[str, Any]) -> Any:
            parent = doc.get(first)
            if parent.__class__ is dict:
                value = parent.get(second)
                if value is not None and value.__class__ is not dict:
                    return value
            return field_value(doc, parts)

        return two
    if len(parts) == 3:
        first, second, third = parts

        def three(doc: Mapping[str, Any]) -> Any:
            parent = doc.get(first)
            if parent.__class__ is dict:
                child = parent.get(second)
                if child.__class__ is dict:
                    value = child.get(third)
                    if value is not None and value.__class__ is not dict:
                        return value
            return field_value(doc, parts)

        return three
    return lambda doc: field_value(doc, parts)


def _field_test(path: str, condition: Any, flat: bool = False) -> Predicate:
    parts = tuple(path.split("."))
    if not all(parts):
        raise ConditionError(f"{path!r} is not a field path (dotted ECS names, e.g. event.action)")
    get = (lambda view: view.get(path, _MISSING)) if flat else _getter(parts)
    test = _condition_test(path, condition)
    if isinstance(condition, dict) and ("exists" in condition or "not" in condition):
        # Only `exists` and `not` can hold for an absent field.
        return lambda doc: test(get(doc))
    return lambda doc: (value := get(doc)) is not _MISSING and test(value)


def _presence_test(path: str, condition: Any) -> Callable[[Any], bool]:
    # Only `exists` and `not` hold for an absent field; every value test needs a value.
    if isinstance(condition, dict) and ("exists" in condition or "not" in condition):
        return lambda value: True
    return lambda value: value is not _MISSING


def _condition_test(path: str, condition: Any) -> Callable[[Any], bool]:
    """A test of the field's value (``_MISSING`` when absent) against ``condition``."""
    if not isinstance(condition, dict):
        return _any_element(_equals(path, condition))
    if not condition:
        raise ConditionError(f"{path}: an empty condition; use one of {', '.join(OPERATORS)}")
    unknown = sorted(set(map(str, condition)) - set(OPERATORS))
    if unknown:
        raise ConditionError(f"{path}: unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    tests: list[Callable[[Any], bool]] = []
    for operator, argument in condition.items():
        if operator == "exists":
            if not isinstance(argument, bool):
                raise ConditionError(f"{path}: exists takes true or false, got {argument!r}")
            tests.append((lambda v: v is not _MISSING) if argument else (lambda v: v is _MISSING))
        elif operator == "not":
            tests.append(_negation(path, argument))
        else:
            tests.append(_present_and(_any_element(_VALUE_TESTS[operator](path, argument))))
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(test(value) for test in tests)


def _negation(path: str, condition: Any) -> ValueTest:
    inner, present = _condition_test(path, condition), _presence_test(path, condition)
    return lambda value: not (present(value) and inner(value))


def _present_and(test: ValueTest) -> ValueTest:
    return lambda value: value is not _MISSING and test(value)


def _any_element(test: ValueTest) -> ValueTest:
    def holds(value: Any) -> bool:
        if value.__class__ is list:
            return any(test(item) for item in value)  # rarer than scalars: the generator is fine
        return test(value)

    return holds


def _text(value: Any) -> str:
    """The comparable text of a scalar: YAML's ``true`` and a document's ``true`` are one value,
    as are ``22`` and ``"22"`` (Elasticsearch coerces the same way)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scalars(path: str, operator: str, argument: Any) -> list[Any]:
    values = argument if isinstance(argument, list) else [argument]
    if not values:
        raise ConditionError(f"{path}: {operator} needs at least one value")
    for value in values:
        if isinstance(value, (dict, list)) or value is None:
            raise ConditionError(f"{path}: {operator} takes a value or a list of values, got {value!r}")
    return values


def _equals(path: str, argument: Any) -> ValueTest:
    texts = frozenset(_text(v) for v in _scalars(path, "equals", argument))

    def equal(value: Any) -> bool:
        if value.__class__ is str:
            return value in texts
        return not isinstance(value, dict) and _text(value) in texts

    return equal


def _strings(path: str, operator: str, argument: Any) -> tuple[str, ...]:
    values = _scalars(path, operator, argument)
    if not all(isinstance(v, str) and v for v in values):
        raise ConditionError(f"{path}: {operator} takes text or a list of texts, got {argument!r}")
    return tuple(values)


def _prefix(path: str, argument: Any) -> ValueTest:
    prefixes = _strings(path, "prefix", argument)
    return lambda value: isinstance(value, str) and value.startswith(prefixes)


def _suffix(path: str, argument: Any) -> ValueTest:
    suffixes = _strings(path, "suffix", argument)
    return lambda value: isinstance(value, str) and value.endswith(suffixes)


def _contains(path: str, argument: Any) -> ValueTest:
    parts = _strings(path, "contains", argument)
    return lambda value: isinstance(value, str) and any(part in value for part in parts)


def _regex(path: str, argument: Any) -> ValueTest:
    patterns = _strings(path, "regex", argument)
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConditionError(f"{path}: regex {pattern!r} is not valid: {exc}") from None
    # Unanchored, as Python's re.search: write ^ and $ to anchor.
    return lambda value: isinstance(value, str) and any(p.search(value) for p in compiled)


def _cidr(path: str, argument: Any) -> ValueTest:
    networks = []
    for text in _strings(path, "cidr", argument):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ConditionError(f"{path}: cidr {text!r} is not a network (e.g. 10.0.0.0/8 or fd00::/8)") from None
    v4 = [n for n in networks if n.version == 4]
    v6 = [n for n in networks if n.version == 6]
    cache: dict[str, bool] = {}

    def inside(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        known = cache.get(value)
        if known is not None:
            return known
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            result = False
        else:
            result = any(address in n for n in (v4 if address.version == 4 else v6))
        if len(cache) >= _MAX_CACHED_ADDRESSES:
            cache.clear()
        cache[value] = result
        return result

    return inside


_VALUE_TESTS: dict[str, Callable[[str, Any], ValueTest]] = {
    "equals": _equals, "in": lambda path, arg: _equals(path, _list_for_in(path, arg)), "prefix": _prefix,
    "suffix": _suffix, "contains": _contains, "cidr": _cidr, "regex": _regex,
}


def _list_for_in(path: str, argument: Any) -> list[Any]:
    if not isinstance(argument, list):
        raise ConditionError(f"{path}: in takes a list of values, got {argument!r}")
    return argument
