"""The demo day's detection labels agree with its files and with the bundled rules, judged without a
SIEM: each rule is evaluated again here over the raw records, thresholds and time buckets included."""

from __future__ import annotations

import functools
import gzip
import ipaddress
import json
import operator
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.demo.estate import DemoManifest
from connector.demo.labels import REJECT_FLOOD
from connector.enrich.geoip import GeoIpLookup, GeoIpSettings

SIGMA = Path(__file__).resolve().parents[1] / "mappings" / "sigma"
Record = dict[str, Any]


# --- the detections, from their files ------------------------------------------------------------


def _rule_files() -> Iterator[list[dict[str, Any]]]:
    for path in sorted((SIGMA / "rules").glob("*.yml")):
        yield [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _alerting_rules() -> dict[str, dict[str, Any]]:
    """Each file's alerting rule by id: its correlation rule where it has one (with its base rule
    under ``base``), else the single rule."""
    rules = {}
    for docs in _rule_files():
        correlations = [doc for doc in docs if "correlation" in doc]
        if not correlations:
            (rule,) = docs
            rules[rule["id"]] = rule
        for correlation in correlations:
            (base_name,) = correlation["correlation"]["rules"]
            (base,) = [doc for doc in docs if doc.get("name") == base_name]
            rules[correlation["id"]] = {**correlation, "base": base, "logsource": base["logsource"]}
    return rules


RULES = _alerting_rules()
# The hand-written detections the generator labels: the new-terms ones. The threat-intel match
# depends on a feed the generator does not know; tests/detections/known_bad_labels.py labels it.
HANDWRITTEN = {d["id"]: d for d in yaml.safe_load((SIGMA / "handwritten.yml").read_text())["detections"]
               if "new_terms" in d}
PIPELINE_VARS = yaml.safe_load((SIGMA / "aws_connector_ecs.yml").read_text())["vars"]


def _by_service(service: str) -> dict[str, dict[str, Any]]:
    return {rule_id: rule for rule_id, rule in RULES.items() if rule["logsource"]["service"] == service}


# --- the raw records -----------------------------------------------------------------------------


def _trail_records(m: DemoManifest) -> list[Record]:
    return [
        rec for key in m.cloudtrail_files for rec in json.loads(gzip.decompress((m.root / key).read_bytes()))["Records"]
    ]


def _flow_records(m: DemoManifest) -> list[Record]:
    records = []
    for key in m.flow_log_files:
        header, *lines = gzip.decompress((m.root / key).read_bytes()).decode().splitlines()
        fields = header.split()
        records += [dict(zip(fields, line.split(" "), strict=True)) for line in lines]
    return records


@pytest.fixture(scope="module")
def trail(demo_estate: tuple[Path, DemoManifest]) -> list[Record]:
    return _trail_records(demo_estate[1])


@pytest.fixture(scope="module")
def flows(demo_estate: tuple[Path, DemoManifest]) -> list[Record]:
    """Flow records with the two ECS fields the country rule reads and the raw format lacks."""
    records = _flow_records(demo_estate[1])
    for rec in records:
        if rec["log-status"] != "OK":
            continue
        # As the normalizer has it: the record's own flow-direction, else the perimeter's view.
        src_public, dst_public = _is_public(rec["srcaddr"]), _is_public(rec["dstaddr"])
        perimeter = (
            ("external" if dst_public else "inbound") if src_public else ("outbound" if dst_public else "internal")
        )
        rec["network.direction"] = rec.get("flow-direction", perimeter)
        country = _country(rec["srcaddr"]) if src_public else None
        if country:
            rec["source.geo.country_iso_code"] = country
    return records


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


@functools.cache
def _geoip() -> GeoIpLookup:
    return GeoIpLookup(GeoIpSettings())


@functools.cache
def _country(address: str) -> str | None:
    geo = _geoip().geo(address)
    return geo.get("country_iso_code") if geo else None


def _user(rec: Record) -> str:
    identity = rec["userIdentity"]
    return "root" if identity["type"] == "Root" else str(identity.get("userName", ""))


# --- Sigma, as far as the bundled rules use it ---------------------------------------------------


def _values(rec: Record, field: str) -> list[Any]:
    """The values at a dotted path, through lists on the way (``ipPermissions.items.ipRanges...``
    names every element's key): a field holds a value when any of them is it."""
    if field in rec:
        return [rec[field]]
    values: list[Any] = [rec]
    for part in field.split("."):
        values = [v.get(part) for v in values if isinstance(v, dict)]
        values = [e for v in values for e in (v if isinstance(v, list) else [v]) if e is not None]
    return values


def _item_holds(rec: Record, key: str, wanted: Any) -> bool:
    field, *modifiers = key.split("|")
    values = _values(rec, field)
    if modifiers == ["exists"]:
        return bool(values) == bool(wanted)
    options = wanted if isinstance(wanted, list) else [wanted]
    if modifiers == ["expand"]:
        (placeholder,) = re.fullmatch(r"%(\w+)%", str(wanted)).groups()  # type: ignore[union-attr]
        options = PIPELINE_VARS[placeholder]
        modifiers = []
    return any(_text_holds(str(value).lower(), modifiers, options) for value in values)


def _text_holds(text: str, modifiers: list[str], options: list[Any]) -> bool:
    if modifiers == ["cidr"]:
        return any(ipaddress.ip_address(text) in ipaddress.ip_network(o) for o in options)
    match = {(): str.__eq__, ("startswith",): str.startswith, ("endswith",): str.endswith}[tuple(modifiers)]
    return any(match(text, str(o).lower()) for o in options)  # Sigma compares strings case-insensitively


def _holds(detection: dict[str, Any], rec: Record) -> bool:
    """A condition of terms joined by `and`: `name`, `not name` or `1 of prefix*`."""
    for term in detection["condition"].split(" and "):
        negated = term.startswith("not ")
        name = term.removeprefix("not ")
        if name.startswith("1 of "):
            prefix = name.removeprefix("1 of ").rstrip("*")
            found = any(_selection_holds(sel, rec) for key, sel in detection.items() if key.startswith(prefix))
        else:
            found = _selection_holds(detection[name], rec)
        if found == negated:
            return False
    return True


def _selection_holds(selection: dict[str, Any], rec: Record) -> bool:
    return all(_item_holds(rec, key, wanted) for key, wanted in selection.items())


def _seconds(timespan: str) -> int:
    number, unit = int(timespan[:-1]), timespan[-1]
    return number * {"s": 1, "m": 60, "h": 3600}[unit]


def _correlation_alerts(rule: dict[str, Any], flows: list[Record]) -> set[str]:
    """The sources whose count in one aligned time bucket of `@timestamp` (the record's start)
    reaches the correlation's threshold, as ES|QL's date_trunc and Splunk's bin make the buckets."""
    correlation = rule["correlation"]
    span = _seconds(correlation["timespan"])
    condition = dict(correlation["condition"])
    counted = condition.pop("field", None)
    ((op, threshold),) = condition.items()
    values: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for rec in flows:
        if _holds(rule["base"]["detection"], rec):
            bucket = str(int(rec["start"]) // span)
            values[(*(rec[f] for f in correlation["group-by"]), bucket)].append(rec[counted] if counted else "")
    count = {"event_count": len, "value_count": lambda v: len(set(v))}[correlation["type"]]
    reaches = {"gte": operator.ge, "gt": operator.gt}[op]
    where = correlation["group-by"].index("srcaddr")
    return {group[where] for group, v in values.items() if reaches(count(v), threshold)}


# --- the tests -----------------------------------------------------------------------------------


def test_every_detection_has_a_label_with_its_unit(demo_estate: tuple[Path, DemoManifest]) -> None:
    labels = demo_estate[1].labels
    assert set(labels) == set(RULES) | set(HANDWRITTEN)
    for rule_id in _by_service("cloudtrail"):
        assert labels[rule_id].field == "event.id"
    for rule_id in _by_service("vpcflow"):
        assert labels[rule_id].field == "source.ip"
    for rule_id in HANDWRITTEN:
        assert labels[rule_id].field == "user.name"


def test_labels_name_what_the_files_hold(
    demo_estate: tuple[Path, DemoManifest], trail: list[Record], flows: list[Record]
) -> None:
    present = {
        "event.id": {rec["eventID"] for rec in trail},
        "source.ip": {rec["srcaddr"] for rec in flows},
        "user.name": {_user(rec) for rec in trail if rec["eventName"] == "ConsoleLogin"},
    }
    for rule_id, label in demo_estate[1].labels.items():
        assert not label.expected & label.benign, rule_id
        assert label.expected | label.benign <= present[label.field], rule_id
        assert label.benign, f"{rule_id} has no look-alike"
        assert label.expected, f"{rule_id} has nothing to find"


@pytest.mark.parametrize("rule_id", sorted(_by_service("cloudtrail")))
def test_cloudtrail_labels_hold_exactly_the_matching_records(
    rule_id: str, demo_estate: tuple[Path, DemoManifest], trail: list[Record]
) -> None:
    label = demo_estate[1].labels[rule_id]
    matching = {rec["eventID"] for rec in trail if _holds(RULES[rule_id]["detection"], rec)}
    assert matching == label.expected, RULES[rule_id]["title"]


@pytest.mark.parametrize("rule_id", sorted(_by_service("vpcflow")))
def test_flow_labels_agree_with_a_count_per_aligned_bucket(
    rule_id: str, demo_estate: tuple[Path, DemoManifest], flows: list[Record]
) -> None:
    rule, label = RULES[rule_id], demo_estate[1].labels[rule_id]
    if "correlation" in rule:
        alerting = _correlation_alerts(rule, flows)
    else:
        alerting = {rec["srcaddr"] for rec in flows if _holds(rule["detection"], rec)}
    assert alerting == label.expected, rule["title"]


def test_reject_flood_is_one_minute_of_one_port(demo_estate: tuple[Path, DemoManifest], flows: list[Record]) -> None:
    (source,) = demo_estate[1].labels[REJECT_FLOOD].expected
    rejects = [rec for rec in flows if rec["srcaddr"] == source and rec["action"] == "REJECT"]
    assert len({int(rec["start"]) // 60 for rec in rejects}) == 1
    assert len({rec["dstport"] for rec in rejects}) == 1
    assert len(rejects) >= 150 and _country(source)


@pytest.mark.parametrize("rule_id", sorted(HANDWRITTEN))
def test_new_country_label_agrees_with_each_users_sign_in_history(
    rule_id: str, demo_estate: tuple[Path, DemoManifest], trail: list[Record]
) -> None:
    sign_ins = sorted(
        (
            rec
            for rec in trail
            if rec["eventName"] == "ConsoleLogin" and rec["responseElements"]["ConsoleLogin"] == "Success"
        ),
        key=lambda rec: rec["eventTime"],
    )
    seen: dict[str, set[str]] = defaultdict(set)
    new_country = set()
    for rec in sign_ins:
        country = _country(rec["sourceIPAddress"])
        if country is None:
            continue
        user = _user(rec)
        if seen[user] and country not in seen[user]:
            new_country.add(user)
        seen[user].add(country)
    assert new_country == demo_estate[1].labels[rule_id].expected
