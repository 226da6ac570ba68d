"""pySigma transformations this connector adds to its processing pipeline.

``FreeFormKeys`` sends a rule's condition on a key inside CloudTrail's free-form objects
(``requestParameters.attribute``) to the object's text rendering, which every backend can read
(ES|QL cannot read ``flattened`` sub-fields, and Elasticsearch matches them case-sensitively).
``KnownFields`` refuses a rule that names a field no document of the connector has, instead of
letting it become a query that can never match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaTransformationError
from sigma.processing.transformations.base import DetectionItemTransformation, PreprocessingTransformation
from sigma.rule import SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from connector.detections.catalogue import CASELESS, FieldCatalogue

# Characters with a meaning in Lucene's (and ES|QL's RLIKE) regular expressions.
_REGEX_SPECIAL = frozenset('.?+*|{}[]()"\\#@&<>~')
# A key's text starts after "{" (first key) or ", " (the others); a value ends at "," "}" or "]".
_KEY_START = "[{ ]"
_VALUE_END = "[,}\\]]"
# An equality may match one element of a list value: "key=[a, b]".
_LIST_ELEMENT = "(\\[([^\\]]*, )?)?"


def _literal(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text.lower())


def rendering_regex(key: str, value: SigmaString) -> str:
    """A regular expression over Elastic's text rendering (``{k=v, k2=[a, b]}``) that holds
    where ``key`` has ``value`` (Sigma wildcards: ``*`` any text, ``?`` one character).
    Lower case: it runs against a lowercase form of the rendering."""
    parts = value.s
    body = []
    for part in parts:
        if part == SpecialChars.WILDCARD_MULTI:
            body.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            body.append(".")
        elif isinstance(part, str):
            body.append(_literal(part))
        else:
            raise SigmaTransformationError(f"a placeholder in {key} cannot be matched in the request text")
    open_start = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    open_end = bool(parts) and parts[-1] == SpecialChars.WILDCARD_MULTI
    return (".*" + _KEY_START + _literal(key) + "=" + ("" if open_start else _LIST_ELEMENT) + "".join(body)
            + ("" if open_end else _VALUE_END + ".*"))


def _as_sigma_string(value: Any) -> SigmaString:
    if isinstance(value, SigmaString):
        return value
    if isinstance(value, SigmaBool):
        return SigmaString("true" if value.to_plain() else "false")
    if isinstance(value, SigmaNumber):
        return SigmaString(str(value.to_plain()))
    raise SigmaTransformationError(f"a {type(value).__name__} value cannot be matched in the request text")


def rendering_wildcard(key: str, value: SigmaString) -> SigmaString:
    """``*key=value*`` over the text rendering, for search languages with wildcards but no usable
    regular expressions (Splunk's search command): a value's end cannot be marked, so an equality
    also holds for a longer value that starts with it."""
    return SigmaString("*" + key.replace("*", "\\*").replace("?", "\\?") + "=") + value + SigmaString("*")


@dataclass
class FreeFormKeys(DetectionItemTransformation):
    """``requestParameters.a.b.key: v`` -> a condition for ``key=v`` on the text rendering of
    ``requestParameters``: a case-insensitive regular expression (``style: regex``) or a wildcard
    pattern (``style: wildcard``). Nested keys match by their last name: the rendering does not
    mark nesting in a way a pattern can follow exactly, so such a condition may also hold where
    the same key and value sit at another depth."""

    renderings: Mapping[str, str] = field(default_factory=dict)  # CloudTrail object name -> document path
    style: str = "regex"

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetectionItem | None:
        name = detection_item.field or ""
        obj, _, key_path = name.partition(".")
        target = self.renderings.get(obj)
        if target is None or not key_path:
            return None
        key = key_path.rsplit(".", 1)[-1]
        values: list[Any] = []
        for value in detection_item.value:
            if isinstance(value, SigmaNull):
                raise SigmaTransformationError(f"{name}: null cannot be matched in the request text")
            text = _as_sigma_string(value)
            if self.style == "wildcard":
                values.append(rendering_wildcard(key, text))
            else:
                values.append(SigmaRegularExpression(rendering_regex(key, text),
                                                     {SigmaRegularExpressionFlag.IGNORECASE}))
        return SigmaDetectionItem(target, [], values, value_linking=detection_item.value_linking,
                                  negated=detection_item.negated, source=detection_item.source)


def _rule_fields(rule: SigmaRule | SigmaCorrelationRule) -> list[str]:
    if isinstance(rule, SigmaCorrelationRule):
        names = list(rule.group_by or [])
        condition_field = getattr(rule.condition, "fieldref", None)
        return names + ([condition_field] if isinstance(condition_field, str) else [])
    found: list[str] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, SigmaDetectionItem):
                if item.field:
                    found.append(item.field)
                found.extend(str(v.field) for v in item.value if hasattr(v, "field") and isinstance(v.field, str))
            else:
                walk(item.detection_items)

    for detection in rule.detection.detections.values():
        walk(detection.detection_items)
    return found


@dataclass
class KnownFields(PreprocessingTransformation):
    """Fails the rule when, after mapping, it still names a field its dataset's documents do not have."""

    catalogues: Mapping[str, FieldCatalogue] = field(default_factory=dict)  # logsource service -> catalogue
    free_form: frozenset[str] = frozenset()  # CloudTrail's free-form objects, whose keys live in their text

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        super().apply(rule)
        service = str(getattr(getattr(rule, "logsource", None), "service", None))
        catalogues = [self.catalogues[service]] if service in self.catalogues else list(self.catalogues.values())
        for name in _rule_fields(rule):
            base = name.removesuffix("." + CASELESS)
            if base.split(".", 1)[0] in self.free_form:
                # Only a field reference reaches here with such a name: the key is in the text alone.
                raise SigmaTransformationError(
                    f"a field reference to {name!r}, a key inside a free-form object: it exists only in the "
                    "object's text rendering, which no query can compare with another field")
            if not any(base in c for c in catalogues):
                raise SigmaTransformationError(
                    f"field {name!r} is in no document of this connector (not in the index templates); "
                    "check the name, or the rule's logsource")
