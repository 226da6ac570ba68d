"""Every field a generated query names is a field of the connector's documents: the list comes
from the index templates (Elasticsearch's and OpenSearch's alike), and a rule that names
anything else is refused by name instead of becoming a query that can never match."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigma.conversion.base import TextQueryBackend

from connector.detections import convert
from connector.detections.catalogue import CASELESS, catalogue

RULES = Path(__file__).parent / "rules"
BACKENDS = ("lucene", "esql", "eql", "splunk")
DATASETS = ("aws.cloudtrail", "aws.vpcflow")


@pytest.fixture(scope="module")
def named_fields() -> dict[str, set[str]]:
    """Backend -> every field name any query of it names (bundled rules and the construct rules)."""
    seen: dict[str, set[str]] = {}
    original = TextQueryBackend.escape_and_quote_field
    current: set[str] = set()

    def recording(self: TextQueryBackend, field_name: str) -> str:
        current.add(field_name)
        return str(original(self, field_name))

    TextQueryBackend.escape_and_quote_field = recording  # type: ignore[method-assign]
    try:
        for backend in BACKENDS:
            current.clear()
            convert(backend)
            convert(backend, [RULES])
            seen[backend] = set(current)
    finally:
        TextQueryBackend.escape_and_quote_field = original  # type: ignore[method-assign]
    return seen


def test_opensearch_templates_map_the_same_fields_as_elasticsearch() -> None:
    for dataset in DATASETS:
        es = dict(catalogue(dataset).types)
        opensearch = {path: ("flattened" if kind == "flat_object" else kind)
                      for path, kind in catalogue(dataset, "opensearch").types.items()}
        assert es == opensearch


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_field_a_query_names_is_in_the_templates(backend: str, named_fields: dict[str, set[str]]) -> None:
    known = {path for dataset in DATASETS for path in catalogue(dataset).types}
    caseless = {path for dataset in DATASETS for path in catalogue(dataset).caseless}
    names = named_fields[backend]
    assert len(names) > 25
    for name in names:
        base = name.removesuffix(f".{CASELESS}")
        assert base in known, f"{backend} query names {name}, which no template maps"
        if name.endswith(f".{CASELESS}"):
            assert base in caseless, f"{backend} query names {name}, a sub-field the template lacks"
        if backend == "esql":
            assert catalogue("aws.cloudtrail").type_of(base) not in ("flattened", "flat_object"), name


def test_a_field_no_document_has_is_refused_by_name() -> None:
    for backend in BACKENDS:
        conversion = convert(backend, [RULES / "unknown_field.yml"])
        assert conversion.detections == []
        (refusal,) = conversion.refused
        assert "field 'status' is in no document of this connector" in refusal.reason


def test_field_references_convert_where_the_language_can_compare_fields() -> None:
    rule = [RULES / "field_reference.yml"]
    for backend in ("lucene", "eql"):
        (refusal,) = convert(backend, rule).refused
        assert "compares two fields (|fieldref)" in refusal.reason and backend in refusal.reason
    (esql,) = convert("esql", rule).detections
    assert esql.query.endswith("and user.name==aws.cloudtrail.user_identity.session_context.session_issuer.user_name")
    (splunk,) = convert("splunk", rule).detections
    assert splunk.query.endswith(
        "| where 'user.name'='aws.cloudtrail.user_identity.session_context.session_issuer.user_name'")


def test_every_construct_rule_converts_on_every_backend_but_the_refused_ones() -> None:
    for backend in BACKENDS:
        conversion = convert(backend, [RULES])
        titles = {d.title for d in conversion.detections}
        assert {"Session issuer, whole-object contains, nested keys", "Flow-log fields and ECS names"} <= titles, (
            backend, [r.line() for r in conversion.refused])
