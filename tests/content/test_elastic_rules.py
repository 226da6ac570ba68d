"""The Elastic Security rules generated from the bundled detections: one per detection, in the
import format of Kibana 8.x and 9.x, naming only fields the index templates map, with an ATT&CK
mapping that says what the Sigma tags say; and the committed file is what the generator writes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector.content import elastic_rules
from connector.content.build import KIBANA_DETECTION_RULES, rendered
from connector.content.definitions import data_view_for
from connector.content.elastic_rules import detection_rules
from connector.detections import Conversion, Detection, Threshold, convert, handwritten
from connector.detections.catalogue import CASELESS, catalogue
from connector.errors import ConfigError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SSH_BRUTE_FORCE = "7e2d4f6a-1b3c-4d5e-9f8a-6c4b2a0e1d02"
PORT_SCAN = "1a7e3c5b-8d2f-4e6a-9c1b-4f7d2a8e6c06"
REJECT_FLOOD = "9d4b6f8a-2e1c-4b7d-8a3f-5c2e9b1d7f04"
NEW_COUNTRY = "0f6c2b8e-5d4a-4e3b-9c7f-2a1d8e6b4c10"
KNOWN_BAD_ADDRESS = "a0756013-9707-4ecc-9dd9-9e95d924d14b"

# What POST /api/detection_engine/rules/_import needs of every rule, and of each type.
REQUIRED = {"rule_id", "name", "description", "risk_score", "severity", "type"}
REQUIRED_BY_TYPE = {"query": {"query", "language"}, "threshold": {"query", "language", "threshold"},
                    "new_terms": {"query", "language", "new_terms_fields", "history_window_start"}}
# Every field the generator may write: the import format's own names, nothing else.
KNOWN = REQUIRED | {"query", "language", "threshold", "new_terms_fields", "history_window_start", "index",
                    "interval", "from", "to", "enabled", "version", "author", "license", "references",
                    "false_positives", "max_signals", "tags", "threat", "note", "building_block_type"}
RISK = {"low": 21, "medium": 47, "high": 73, "critical": 99}
SCHEDULE = re.compile(r"\d+[smh]")
DATE_MATH = re.compile(r"now(-\d+[smhd])?")
TACTIC_ID, TECHNIQUE_ID, SUBTECHNIQUE_ID = re.compile(r"TA\d{4}"), re.compile(r"T\d{4}"), re.compile(r"T\d{4}\.\d{3}")

# A Lucene query's field names: every `name:` outside quoted strings and regular expressions, and
# the field of each `_exists_:name`.
_REGEX_VALUE = re.compile(r"(?<=:)/(?:\\.|[^/\\])*/")
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')
_FIELD = re.compile(r"(?:^|[\s(])([\w.@]+):([\w.@]*)")


def query_fields(query: str) -> set[str]:
    """The fields a Lucene query names."""
    bare = _QUOTED.sub('""', _REGEX_VALUE.sub("//", query))
    return {value if name == "_exists_" else name for name, value in _FIELD.findall(bare)}


def rule_fields(rule: dict[str, Any]) -> set[str]:
    """Every field a rule names: in its query, its threshold groups and cardinality, its new terms."""
    threshold = rule.get("threshold", {})
    return (query_fields(rule["query"]) | set(threshold.get("field", []))
            | {c["field"] for c in threshold.get("cardinality", [])} | set(rule.get("new_terms_fields", [])))


@pytest.fixture(scope="module")
def rules() -> dict[str, dict[str, Any]]:
    """The generated rules by rule_id."""
    return {rule["rule_id"]: rule for rule in detection_rules()}


@pytest.fixture(scope="module")
def detections() -> dict[str, Detection]:
    """The bundled Sigma rules converted to Lucene, by id."""
    return {d.rule_id: d for d in convert("lucene").detections}


def _datasets(rule_id: str, detections: dict[str, Detection]) -> tuple[str, ...]:
    if rule_id in detections:
        return (detections[rule_id].dataset,)
    return next(h.datasets for h in handwritten() if h.rule_id == rule_id)


def test_one_rule_per_bundled_detection_with_its_id(rules: dict[str, dict[str, Any]],
                                                     detections: dict[str, Detection]) -> None:
    generated = [rule["rule_id"] for rule in detection_rules()]
    assert len(generated) == len(set(generated)) == len(rules)
    assert set(generated) == set(detections) | {h.rule_id for h in handwritten()}
    assert len(generated) >= 20
    for rule_id, detection in detections.items():
        assert rules[rule_id]["name"] == detection.title
        assert rules[rule_id]["query"] == detection.query


def test_threshold_rules_are_exactly_the_counting_rules(rules: dict[str, dict[str, Any]],
                                                        detections: dict[str, Detection]) -> None:
    counting = {rule_id for rule_id, d in detections.items() if d.threshold is not None}
    assert {rule_id for rule_id, rule in rules.items() if rule["type"] == "threshold"} == counting
    assert {SSH_BRUTE_FORCE, PORT_SCAN, REJECT_FLOOD} <= counting
    for rule_id in counting:
        threshold = detections[rule_id].threshold
        assert threshold is not None
        body = rules[rule_id]["threshold"]
        assert body["field"] == list(threshold.group_by)
        at_least = threshold.count + (1 if threshold.operator == "gt" else 0)
        if threshold.kind == "value_count":
            assert body == {"field": list(threshold.group_by), "value": 1,
                            "cardinality": [{"field": threshold.field, "value": at_least}]}
        else:
            assert body == {"field": list(threshold.group_by), "value": at_least}


def test_ssh_brute_force_port_scan_and_reject_flood_thresholds(rules: dict[str, dict[str, Any]]) -> None:
    assert rules[SSH_BRUTE_FORCE]["threshold"] == {"field": ["source.ip", "destination.port"], "value": 5}
    assert rules[PORT_SCAN]["threshold"] == {"field": ["source.ip"], "value": 1,
                                             "cardinality": [{"field": "destination.port", "value": 20}]}
    # Sigma's "more than 100" is Elastic's "at least 101".
    assert rules[REJECT_FLOOD]["threshold"] == {"field": ["source.ip"], "value": 101}


def test_a_threshold_counts_one_timespan_per_run_that_ended_before_late_events_settle(
        rules: dict[str, dict[str, Any]]) -> None:
    windows = {SSH_BRUTE_FORCE: "1m", PORT_SCAN: "5m", REJECT_FLOOD: "1m"}
    for rule_id, window in windows.items():
        rule = rules[rule_id]
        assert rule["interval"] == window, rule["name"]
        assert (_minutes(rule["from"]) - _minutes(rule["to"])) == _minutes(f"now-{window}"), rule["name"]
        assert rule["to"] == "now-5m"


def _minutes(date_math: str) -> int:
    amount, unit = re.fullmatch(r"now-(\d+)([mh])", date_math).groups()  # type: ignore[union-attr]
    return int(amount) * (60 if unit == "h" else 1)


def test_single_event_rules_run_every_five_minutes_over_ten(rules: dict[str, dict[str, Any]],
                                                            detections: dict[str, Detection]) -> None:
    single = [rule for rule_id, rule in rules.items() if rule_id in detections and rule["type"] == "query"]
    assert len(single) == sum(1 for d in detections.values() if d.threshold is None)
    for rule in single:
        assert (rule["interval"], rule["from"], rule["to"], rule["language"]) == ("5m", "now-10m", "now", "lucene")


def test_the_new_country_detection_is_a_new_terms_rule(rules: dict[str, dict[str, Any]]) -> None:
    (hand,) = [h for h in handwritten() if h.rule_id == NEW_COUNTRY]
    rule = rules[NEW_COUNTRY]
    assert hand.new_terms is not None
    assert rule["type"] == "new_terms"
    assert rule["query"] == hand.base_query
    assert rule["new_terms_fields"] == ["user.name", "source.geo.country_iso_code"] == list(hand.new_terms.fields)
    assert rule["history_window_start"] == "now-30d"
    assert (rule["interval"], rule["from"]) == ("5m", "now-10m")


def test_the_threat_intel_detection_is_one_query_rule_over_flows_and_api_calls(
        rules: dict[str, dict[str, Any]]) -> None:
    rule = rules[KNOWN_BAD_ADDRESS]
    assert (rule["type"], rule["severity"], rule["risk_score"]) == ("query", "high", 73)
    assert rule["index"] == ["logs-aws_connector.vpcflow-*", "logs-aws_connector.cloudtrail-*"]
    assert rule["query"] == ("event.dataset:(aws.vpcflow OR aws.cloudtrail) AND "
                             "_exists_:threat.enrichments.matched.atomic")
    assert {"Data Source: AWS VPC Flow Logs", "Data Source: AWS CloudTrail"} <= set(rule["tags"])
    assert (rule["interval"], rule["from"], rule["to"]) == ("5m", "now-10m", "now")


def test_every_field_a_rule_names_is_in_the_index_templates(rules: dict[str, dict[str, Any]],
                                                            detections: dict[str, Detection]) -> None:
    for rule_id, rule in rules.items():
        fields = rule_fields(rule)
        assert "event.dataset" in fields, rule["name"]
        for dataset in _datasets(rule_id, detections):
            known = catalogue(dataset)
            for name in fields:
                base = name.removesuffix(f".{CASELESS}")
                assert base in known, f"{rule['name']} names {name}, which the {dataset} template does not map"
                if name != base:
                    assert base in known.caseless, f"{rule['name']} names {name}, a sub-field the template lacks"


def test_the_field_reader_sees_exists_and_skips_values() -> None:
    query = ('event.dataset:aws.cloudtrail AND NOT _exists_:a.b AND (c.d:/x:y\\/z/ OR e.f:"g:h" '
             "OR i.j:(k OR l)) AND m:10.0.0.0\\/8")
    assert query_fields(query) == {"event.dataset", "a.b", "c.d", "e.f", "i.j", "m"}


def test_every_rule_has_what_the_import_format_needs(rules: dict[str, dict[str, Any]],
                                                      detections: dict[str, Detection]) -> None:
    for rule_id, rule in rules.items():
        name = rule["name"]
        assert REQUIRED | REQUIRED_BY_TYPE[rule["type"]] <= set(rule), name
        assert set(rule) <= KNOWN, (name, set(rule) - KNOWN)
        assert rule["language"] == "lucene" and rule["query"], name
        assert RISK[rule["severity"]] == rule["risk_score"], name
        assert SCHEDULE.fullmatch(rule["interval"]) and DATE_MATH.fullmatch(rule["from"]), name
        assert DATE_MATH.fullmatch(rule["to"]), name
        assert rule["enabled"] is False and rule["version"] >= 1 and rule["max_signals"] >= 1, name
        assert rule["description"] and rule["author"] and rule["license"], name
        assert all(isinstance(v, str) for key in ("tags", "references", "false_positives", "author")
                   for v in rule[key]), name
        # Index patterns, not the data view by id: the rule runs in any space the data streams reach.
        assert "data_view_id" not in rule
        assert rule["index"] == [data_view_for(d).title for d in _datasets(rule_id, detections)], name
        assert all(p.startswith("logs-aws_connector.") and p.endswith("-*") for p in rule["index"]), name
        assert {"Data Source: AWS", "aws-siem-connector"} <= set(rule["tags"]), name
    new_terms = [rule for rule in rules.values() if rule["type"] == "new_terms"]
    assert new_terms and all(1 <= len(rule["new_terms_fields"]) <= 3 for rule in new_terms)
    assert all(rule["history_window_start"].startswith("now-") for rule in new_terms)
    for rule in rules.values():
        if rule["type"] == "threshold":
            assert len(rule["threshold"]["field"]) <= 3 and rule["threshold"]["value"] >= 1


def test_the_attack_mapping_is_well_formed_and_says_what_the_sigma_tags_say(
        rules: dict[str, dict[str, Any]]) -> None:
    for rule in rules.values():
        name = rule["name"]
        sigma = [tag.removeprefix("attack.") for tag in rule["tags"] if tag.startswith("attack.")]
        tagged_techniques = {tag.upper() for tag in sigma if re.fullmatch(r"t\d{4}(\.\d{3})?", tag)}
        tagged_tactics = {tag for tag in sigma if not re.fullmatch(r"t\d{4}(\.\d{3})?", tag)}
        assert rule["threat"], f"{name}: no ATT&CK mapping"
        tactics, techniques = set(), set()
        for entry in rule["threat"]:
            assert entry["framework"] == "MITRE ATT&CK"
            tactic = entry["tactic"]
            assert TACTIC_ID.fullmatch(tactic["id"]), name
            assert tactic["reference"] == f"https://attack.mitre.org/tactics/{tactic['id']}/"
            tactics.add(tactic["name"].lower().replace(" ", "-"))
            for technique in entry["technique"]:
                assert TECHNIQUE_ID.fullmatch(technique["id"]) and technique["name"], name
                assert technique["reference"] == f"https://attack.mitre.org/techniques/{technique['id']}/"
                subs = technique.get("subtechnique", [])
                techniques.update(sub["id"] for sub in subs)
                if not subs or technique["id"] in tagged_techniques:
                    techniques.add(technique["id"])
                for sub in subs:
                    assert SUBTECHNIQUE_ID.fullmatch(sub["id"]) and sub["id"].startswith(technique["id"] + "."), name
                    assert sub["reference"] == (f"https://attack.mitre.org/techniques/{technique['id']}/"
                                                f"{sub['id'].split('.')[1]}/")
        assert tactics == tagged_tactics, name
        assert techniques == tagged_techniques, name
        assert {t for t in rule["tags"] if t.startswith("Tactic: ")} == {
            f"Tactic: {e['tactic']['name']}" for e in rule["threat"]}, name


def test_the_mapping_of_a_cloud_account_and_a_two_tactic_rule(rules: dict[str, dict[str, Any]]) -> None:
    (root,) = rules["6a0d7c1e-3f4b-4a8e-8c2d-1e5f9b3a7c22"]["threat"]
    assert root["tactic"]["id"] == "TA0004"
    assert root["technique"] == [{"id": "T1078", "name": "Valid Accounts",
                                  "reference": "https://attack.mitre.org/techniques/T1078/",
                                  "subtechnique": [{"id": "T1078.004", "name": "Cloud Accounts",
                                                    "reference": "https://attack.mitre.org/techniques/T1078/004/"}]}]
    flood = rules[REJECT_FLOOD]["threat"]
    assert [(e["tactic"]["id"], [t["id"] for t in e["technique"]]) for e in flood] == [
        ("TA0007", ["T1046"]), ("TA0040", ["T1498"])]


def _one_detection(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    detection = Detection(**{"rule_id": "00000000-0000-4000-8000-000000000001", "title": "Tagged Oddly",
                             "level": "medium", "query": "event.dataset:aws.cloudtrail", "dataset": "aws.cloudtrail",
                             "tags": ("attack.execution",), **changes})
    monkeypatch.setattr(elastic_rules, "convert", lambda backend: Conversion([detection], []))
    monkeypatch.setattr(elastic_rules, "handwritten", lambda: ())


def test_a_technique_the_table_lacks_fails_naming_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    _one_detection(monkeypatch, tags=("attack.defense-evasion", "attack.t1562.001"))
    with pytest.raises(ConfigError, match=r"'Tagged Oddly'.*T1562\.001"):
        detection_rules()
    _one_detection(monkeypatch, tags=("attack.execution", "attack.t1059"))
    with pytest.raises(ConfigError, match=r"'Tagged Oddly'.*attack\.execution"):
        detection_rules()


def test_a_count_elastic_cannot_threshold_fails_naming_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    _one_detection(monkeypatch, tags=(), threshold=Threshold("event_count", ("source.ip",), "1m", "lt", 3))
    with pytest.raises(ConfigError, match=r"'Tagged Oddly'.*'lt'"):
        detection_rules()


def test_the_committed_file_is_what_the_generator_writes() -> None:
    committed = (DEPLOY / KIBANA_DETECTION_RULES).read_bytes()
    assert committed == rendered()[KIBANA_DETECTION_RULES], \
        "deploy/kibana/detection-rules.ndjson is stale: run aws-siem-connector content build"
    assert [orjson.loads(line) for line in committed.splitlines()] == detection_rules()
