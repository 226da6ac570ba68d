"""The query languages, each a pySigma backend taught two things about this connector's documents:
strings match case-insensitively (as Sigma specifies), and ``flattened`` objects are out of
ES|QL's reach.

- Lucene: a keyword field with a lowercase ``caseless`` sub-field is searched through it (its
  normalizer lowercases the query too); any other keyword field through a regular expression
  that accepts either case of every letter.
- ES|QL: ``TO_LOWER(field)`` against the lowercased value.
- EQL: its ``:`` operator and ``regex~`` are already case-insensitive.
- Splunk: its search command compares field values case-insensitively.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionOR
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import SigmaRegularExpression, SigmaRegularExpressionFlag, SigmaString, SpecialChars

from connector.detections.catalogue import CASELESS, FLATTENED_TYPES, LOWERCASE_VALUED, FieldCatalogue
from connector.errors import ConfigError

_BASES = {
    "lucene": ("sigma.backends.elasticsearch.elasticsearch_lucene", "LuceneBackend"),
    "esql": ("sigma.backends.elasticsearch.elasticsearch_esql", "ESQLBackend"),
    "eql": ("sigma.backends.elasticsearch.elasticsearch_eql", "EqlBackend"),
    "splunk": ("sigma.backends.splunk.splunk", "SplunkBackend"),
}
_STRING_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "text", "match_only_text"})


class _Fields:
    """Field facts for a backend: the mapping type and whether a caseless sub-field exists."""

    def __init__(self, catalogues: Mapping[str, FieldCatalogue]) -> None:
        self._catalogues = list(catalogues.values())

    def type_of(self, path: str) -> str | None:
        for cat in self._catalogues:
            found = cat.type_of(path)
            if found is not None:
                return found
        return None

    def has_caseless(self, path: str) -> bool:
        return any(path in cat.caseless for cat in self._catalogues)

    def is_string(self, path: str) -> bool:
        return self.type_of(path) in _STRING_TYPES


def _is_cased_or_plain(value: Any) -> bool:
    """True when the value needs no case folding: no letters, or cased (``|cased``)."""
    return not isinstance(value, SigmaString) or not any(isinstance(p, str) and p.lower() != p.upper()
                                                         for p in value.s)


def _either_case(value: SigmaString) -> str:
    """A Lucene regular expression matching ``value`` with any letter in either case."""
    out = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif isinstance(part, str):
            for char in part:
                if char.lower() != char.upper():
                    out.append(f"[{char.lower()}{char.upper()}]")
                else:
                    out.append("\\" + char if char in '.?+*|{}[]()"\\#@&<>~/' else char)
    return "".join(out)


@contextmanager
def _field_renamed(cond: Any, name: str) -> Iterator[None]:
    original = cond.field
    cond.field = name
    try:
        yield
    finally:
        cond.field = original


@contextmanager
def _values_lowered(cond: Any) -> Iterator[None]:
    """Lower-case the condition's string value(s) (a single value or an OR of values)."""
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        original = cond.value
        if isinstance(original, SigmaString):
            cond.value = original.lower()
        try:
            yield
        finally:
            cond.value = original
        return
    saved = [(arg, arg.value) for arg in cond.args if isinstance(getattr(arg, "value", None), SigmaString)]
    for arg, value in saved:
        arg.value = value.lower()
    try:
        yield
    finally:
        for arg, value in saved:
            arg.value = value


def _field_of(cond: Any) -> str | None:
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return cond.field
    fields = {getattr(arg, "field", None) for arg in getattr(cond, "args", [])}
    return fields.pop() if len(fields) == 1 else None


def _without_flags(regex: SigmaRegularExpression, lowered: bool) -> SigmaRegularExpression:
    text = regex.regexp.original if hasattr(regex.regexp, "original") else str(regex.regexp)
    return SigmaRegularExpression(text.lower() if lowered else text)


def _ignores_case(value: Any) -> bool:
    """A regular expression with Sigma's ``i`` flag."""
    return isinstance(value, SigmaRegularExpression) and SigmaRegularExpressionFlag.IGNORECASE in value.flags


@contextmanager
def _regex_without_flags(cond: Any, lowered: bool) -> Iterator[None]:
    """The condition's regular expression without its flags (lowered, to run against lowered text)."""
    original = cond.value
    cond.value = _without_flags(original, lowered)
    try:
        yield
    finally:
        cond.value = original


class _CasedIsPlain:
    """``|cased`` values: the backend's plain (case-sensitive) comparison on the field itself."""

    def convert_condition_field_eq_val_str_case_sensitive(self, cond: ConditionFieldEqualsValueExpression,
                                                          state: ConversionState) -> Any:
        return super().convert_condition_field_eq_val_str(cond, state)  # type: ignore[misc]


def _lucene(base: type[Any], fields: _Fields) -> type[Any]:
    class CaselessLucene(_CasedIsPlain, base):  # type: ignore[misc]
        """Lucene over this connector's fields: case-insensitive string matches."""

        def decide_convert_condition_as_in_expression(self, cond: ConditionOR, state: ConversionState) -> bool:
            field = _field_of(cond)
            args: list[Any] = list(cond.args)
            if field is not None and fields.is_string(field) and not fields.has_caseless(field) and not all(
                    _is_cased_or_plain(arg.value) for arg in args):
                return False  # each value becomes its own either-case expression
            return bool(super().decide_convert_condition_as_in_expression(cond, state))

        def convert_condition_as_in_expression(self, cond: ConditionOR, state: ConversionState) -> Any:
            field = _field_of(cond)
            if field in LOWERCASE_VALUED:
                with _values_lowered(cond):
                    return super().convert_condition_as_in_expression(cond, state)
            if field is not None and fields.has_caseless(field):
                args: list[Any] = list(cond.args)
                saved = [(arg, arg.field) for arg in args]
                for arg, _ in saved:
                    arg.field = f"{field}.{CASELESS}"
                try:
                    return super().convert_condition_as_in_expression(cond, state)
                finally:
                    for arg, name in saved:
                        arg.field = name
            return super().convert_condition_as_in_expression(cond, state)

        def convert_condition_field_eq_val_str(self, cond: ConditionFieldEqualsValueExpression,
                                               state: ConversionState) -> Any:
            field = cond.field
            if field is None or not fields.is_string(field) or _is_cased_or_plain(cond.value):
                return super().convert_condition_field_eq_val_str(cond, state)
            if field in LOWERCASE_VALUED:
                with _values_lowered(cond):
                    return super().convert_condition_field_eq_val_str(cond, state)
            if fields.has_caseless(field):
                with _field_renamed(cond, f"{field}.{CASELESS}"):
                    return super().convert_condition_field_eq_val_str(cond, state)
            value: Any = cond.value
            return f"{self.escape_and_quote_field(field)}:/{_either_case(value)}/"

        def convert_condition_field_eq_val_re(self, cond: ConditionFieldEqualsValueExpression,
                                              state: ConversionState) -> Any:
            if not _ignores_case(cond.value):
                return super().convert_condition_field_eq_val_re(cond, state)
            field = cond.field or ""
            if not fields.has_caseless(field):
                raise SigmaFeatureNotSupportedByBackendError(
                    f"a case-insensitive regular expression on {field} (it has no caseless sub-field)")
            with _regex_without_flags(cond, lowered=True), _field_renamed(cond, f"{field}.{CASELESS}"):
                return super().convert_condition_field_eq_val_re(cond, state)

    return CaselessLucene


def _esql(base: type[Any], fields: _Fields) -> type[Any]:
    class CaselessEsql(_CasedIsPlain, base):  # type: ignore[misc]
        """ES|QL over this connector's fields: TO_LOWER for strings, no flattened objects."""

        _lower_fields = False

        def escape_and_quote_field(self, field_name: str) -> str:
            if fields.type_of(field_name) in FLATTENED_TYPES:
                raise SigmaFeatureNotSupportedByBackendError(
                    f"ES|QL cannot read {field_name}: it is a key of a flattened object")
            quoted = str(super().escape_and_quote_field(field_name))
            lower = self._lower_fields and fields.is_string(field_name) and field_name not in LOWERCASE_VALUED
            return f"TO_LOWER({quoted})" if lower else quoted

        def _lowered(self, convert: Callable[[Any, ConversionState], Any], cond: Any, state: ConversionState) -> Any:
            values = [cond.value] if isinstance(cond, ConditionFieldEqualsValueExpression) else \
                [getattr(arg, "value", None) for arg in cond.args]
            if all(_is_cased_or_plain(v) for v in values):
                return convert(cond, state)  # nothing to fold: digits, or |cased
            self._lower_fields = True
            try:
                with _values_lowered(cond):
                    return convert(cond, state)
            finally:
                self._lower_fields = False

        def convert_condition_as_in_expression(self, cond: ConditionOR, state: ConversionState) -> Any:
            return self._lowered(super().convert_condition_as_in_expression, cond, state)

        def convert_condition_field_eq_val_str(self, cond: ConditionFieldEqualsValueExpression,
                                               state: ConversionState) -> Any:
            return self._lowered(super().convert_condition_field_eq_val_str, cond, state)

        def convert_condition_field_eq_val_re(self, cond: ConditionFieldEqualsValueExpression,
                                              state: ConversionState) -> Any:
            if not _ignores_case(cond.value):
                return super().convert_condition_field_eq_val_re(cond, state)
            self._lower_fields = True
            try:
                with _regex_without_flags(cond, lowered=True):
                    return super().convert_condition_field_eq_val_re(cond, state)
            finally:
                self._lower_fields = False

    return CaselessEsql


def _eql(base: type[Any]) -> type[Any]:
    class PlainEql(base):  # type: ignore[misc]
        """EQL's ``regex~`` is case-insensitive already and reads no inline flags; a field exists
        when it is not null."""

        field_exists_expression = "{field} != null"
        field_not_exists_expression = "{field} == null"

        def convert_condition_field_eq_val_re(self, cond: ConditionFieldEqualsValueExpression,
                                              state: ConversionState) -> Any:
            if not isinstance(cond.value, SigmaRegularExpression) or not cond.value.flags:
                return super().convert_condition_field_eq_val_re(cond, state)
            with _regex_without_flags(cond, lowered=False):
                return super().convert_condition_field_eq_val_re(cond, state)

    return PlainEql


def backend(name: str, pipeline: Any, catalogues: Mapping[str, FieldCatalogue]) -> Any:
    """A pySigma backend for ``name`` with the connector's processing pipeline."""
    module, class_name = _BASES[name]
    try:
        base = getattr(importlib.import_module(module), class_name)
    except ImportError:
        package = "pysigma-backend-splunk" if name == "splunk" else "pysigma-backend-elasticsearch"
        raise ConfigError(f"the {name} backend needs {package}: pip install 'aws-siem-connector[sigma]'") from None
    fields = _Fields(catalogues)
    if name == "lucene":
        base = _lucene(base, fields)
    elif name == "esql":
        base = _esql(base, fields)
    elif name == "eql":
        base = _eql(base)
    return base(processing_pipeline=pipeline)
