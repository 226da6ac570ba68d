"""Elastic Security detection rules from the same detections as the Splunk alerts, in the NDJSON
format of ``POST /api/detection_engine/rules/_import`` (Kibana 8.6 and later, 9.x).

- A single-event Sigma rule becomes a ``query`` rule, a counting rule a ``threshold`` rule, the
  hand-written "new country" detection a ``new_terms`` rule, the hand-written threat-intel match a
  ``query`` rule; every query is Lucene, as converted.
- Each rule searches its datasets' index patterns (``index``), the data views' titles, and does not
  name the data view by id: Kibana searches a rule's data view in preference to its index
  patterns, and fails every run in a space that lacks the view, while an index pattern works
  wherever the data streams are, whatever was imported before.
- Rules ship disabled: a SOC turns on what it wants. ``rule_id`` is the Sigma rule's id, so a
  later import with ``overwrite=true`` replaces the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connector.content.definitions import data_view_for
from connector.detections import Detection, HandwrittenDetection, Threshold, convert, handwritten
from connector.errors import ConfigError

AUTHOR = "aws-siem-connector"
LICENSE = "Apache-2.0"
# The rule format's version of our rules; Kibana counts each edit in the rule's own `revision`.
VERSION = 1
MAX_SIGNALS = 100
# Elastic's usual severity and risk score per level; an informational rule becomes a building
# block, whose alerts stay out of the alerts table unless asked for.
SEVERITY = {"informational": ("low", 21), "low": ("low", 21), "medium": ("medium", 47),
            "high": ("high", 73), "critical": ("critical", 99)}
# Single-event and new-terms rules run every 5 minutes over the last 10: events reach the index
# some minutes after they happen, and Elastic alerts on a document once however often it is read.
INTERVAL_SECONDS = 300
LATE_SECONDS = 300
# Kibana before 9.2 groups a threshold by at most three fields; a new-terms rule compares at most three.
MAX_GROUP_FIELDS = 3
DATA_SOURCES = {"aws.cloudtrail": "AWS CloudTrail", "aws.vpcflow": "AWS VPC Flow Logs", "aws.config": "AWS Config"}
_SPAN = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# MITRE ATT&CK v18, the version Elastic maps its own rules to on 8.x and 9.x up to 9.4 (v19
# renumbered T1562): the tactics and techniques the bundled detections are tagged with.
ATTACK = "https://attack.mitre.org"
TACTICS: dict[str, tuple[str, str]] = {  # Sigma tag -> (id, name)
    "initial-access": ("TA0001", "Initial Access"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "command-and-control": ("TA0011", "Command and Control"),
    "impact": ("TA0040", "Impact"),
}
TECHNIQUES: dict[str, tuple[str, tuple[str, ...]]] = {  # id -> (name, the tactics it serves)
    "T1046": ("Network Service Discovery", ("discovery",)),
    "T1071": ("Application Layer Protocol", ("command-and-control",)),
    "T1078": ("Valid Accounts", ("defense-evasion", "persistence", "privilege-escalation", "initial-access")),
    "T1098": ("Account Manipulation", ("persistence", "privilege-escalation")),
    "T1110": ("Brute Force", ("credential-access",)),
    "T1133": ("External Remote Services", ("persistence", "initial-access")),
    "T1485": ("Data Destruction", ("impact",)),
    "T1498": ("Network Denial of Service", ("impact",)),
    "T1537": ("Transfer Data to Cloud Account", ("exfiltration",)),
    "T1562": ("Impair Defenses", ("defense-evasion",)),
    "T1580": ("Cloud Infrastructure Discovery", ("discovery",)),
}
SUBTECHNIQUES: dict[str, str] = {  # id -> name (its tactics are its technique's)
    "T1078.004": "Cloud Accounts",
    "T1098.001": "Additional Cloud Credentials",
    "T1562.007": "Disable or Modify Cloud Firewall",
    "T1562.008": "Disable or Modify Cloud Logs",
}
_TECHNIQUE_TAG = re.compile(r"t\d{4}(\.\d{3})?")
_GROUP_OR_SOFTWARE_TAG = re.compile(r"[gs]\d{4}")


@dataclass(frozen=True)
class _About:
    """What every rule carries, whatever its type."""

    rule_id: str
    name: str
    description: str
    level: str
    datasets: tuple[str, ...]
    tags: tuple[str, ...]
    references: tuple[str, ...]
    false_positives: tuple[str, ...]
    authors: tuple[str, ...]
    note: str


def detection_rules() -> list[dict[str, Any]]:
    """One Elastic Security rule per bundled detection (the Sigma rules and the hand-written ones),
    sorted by name; an error names the first rule that cannot become one."""
    conversion = convert("lucene")
    if conversion.refused:
        raise ConfigError("bundled Sigma rules that do not convert: "
                          + "; ".join(r.line() for r in conversion.refused))
    rules = [_from_sigma(d) for d in conversion.detections]
    rules += [_from_handwritten(h) for h in handwritten()]
    return sorted(rules, key=lambda rule: (str(rule["name"]), str(rule["rule_id"])))


def _from_sigma(detection: Detection) -> dict[str, Any]:
    source = _sigma_documents(detection.path).get(detection.rule_id, {})
    note = f"Generated by aws-siem-connector from the Sigma rule `{Path(detection.path).name}`."
    if detection.threshold is not None:
        note += f" Sigma counts: {detection.threshold.text()}."
    about = _About(
        detection.rule_id, detection.title, detection.description or detection.title, detection.level,
        (detection.dataset,), detection.tags, _strings(source.get("references")),
        _strings(source.get("falsepositives")), _strings(source.get("author")) or (AUTHOR,), note)
    if detection.threshold is None:
        return _rule(about, "query", detection.query)
    counting = _threshold(about, detection.threshold)
    about = replace(about, note=f"{note} Elastic counts over each run's window: every {counting['interval']}, "
                                f"the {counting['interval']} that ended {counting['to'].removeprefix('now-')} "
                                "before the run, so that late events count.")
    return _rule(about, "threshold", detection.query, **counting)


def _from_handwritten(detection: HandwrittenDetection) -> dict[str, Any]:
    about = _About(
        detection.rule_id, detection.title, detection.description, detection.level, detection.datasets,
        detection.tags, (), (), (AUTHOR,),
        f"A detection written by hand for each SIEM (aws-siem-connector): {detection.why_not_sigma}")
    if detection.new_terms is None:
        return _rule(about, "query", detection.base_query)
    fields = list(detection.new_terms.fields)
    if not 1 <= len(fields) <= MAX_GROUP_FIELDS:
        raise ConfigError(f"hand-written detection {detection.title!r} ({detection.rule_id}): a new-terms rule "
                          f"compares 1 to {MAX_GROUP_FIELDS} fields, not {len(fields)}")
    _seconds(about, detection.new_terms.history_window)
    return _rule(about, "new_terms", detection.base_query, new_terms_fields=fields,
                 history_window_start=f"now-{detection.new_terms.history_window}")


def _rule(about: _About, rule_type: str, query: str, **specific: Any) -> dict[str, Any]:
    """A rule of ``rule_type`` over a Lucene query; ``specific`` adds the type's own fields or
    replaces the usual schedule."""
    return {**_common(about), "type": rule_type, "language": "lucene", "query": query,
            **_schedule(INTERVAL_SECONDS, INTERVAL_SECONDS + LATE_SECONDS), **specific}


def _common(about: _About) -> dict[str, Any]:
    """The fields every rule type shares."""
    if about.level not in SEVERITY:
        raise ConfigError(f"rule {about.name!r} ({about.rule_id}): level {about.level!r} is not one of "
                          f"{', '.join(SEVERITY)}")
    severity, risk_score = SEVERITY[about.level]
    threat = _threat(about)
    tactic_tags = [f"Tactic: {entry['tactic']['name']}" for entry in threat]
    rule: dict[str, Any] = {
        "rule_id": about.rule_id,
        "name": about.name,
        "description": about.description,
        "severity": severity,
        "risk_score": risk_score,
        "index": [data_view_for(dataset).title for dataset in about.datasets],
        "tags": ["Domain: Cloud", "Data Source: AWS", "Data Source: Amazon Web Services",
                 *(f"Data Source: {DATA_SOURCES[dataset]}" for dataset in about.datasets), *tactic_tags,
                 *about.tags, AUTHOR],
        "threat": threat,
        "author": list(about.authors),
        "license": LICENSE,
        "references": list(about.references),
        "false_positives": list(about.false_positives),
        "note": about.note,
        "enabled": False,
        "max_signals": MAX_SIGNALS,
        "version": VERSION,
    }
    if about.level == "informational":
        rule["building_block_type"] = "default"
    return rule


def _schedule(every: int, reads: int, ends_ago: int = 0) -> dict[str, str]:
    """``interval``, ``from`` and ``to``: run every ``every`` seconds over the ``reads`` seconds that
    ended ``ends_ago`` seconds before the run."""
    return {"interval": _duration(every), "from": f"now-{_duration(reads + ends_ago)}",
            "to": f"now-{_duration(ends_ago)}" if ends_ago else "now"}


def _threshold(about: _About, threshold: Threshold) -> dict[str, Any]:
    """The ``threshold`` object and schedule of a counting rule.

    Elastic counts over each run's whole search window, so the window is the rule's timespan, and
    the rule runs once per timespan: consecutive runs tile time as Sigma's buckets do. The window
    ends five minutes before the run so that late events count (a threshold cannot read the
    minutes before its window again, as other rules do, without counting over a longer time).
    """
    if threshold.operator not in ("gt", "gte"):
        raise ConfigError(f"Sigma rule {about.name!r} ({about.rule_id}): an Elastic threshold alerts at or above "
                          f"a count, so the condition {threshold.operator!r} has no threshold rule")
    if len(threshold.group_by) > MAX_GROUP_FIELDS:
        raise ConfigError(f"Sigma rule {about.name!r} ({about.rule_id}): an Elastic threshold groups by at most "
                          f"{MAX_GROUP_FIELDS} fields, not {len(threshold.group_by)}")
    # Elastic's threshold and cardinality values mean "at least"; Sigma's `gt: N` is at least N + 1.
    at_least = threshold.count + 1 if threshold.operator == "gt" else threshold.count
    at_least = max(at_least, 1)
    body: dict[str, Any] = {"field": list(threshold.group_by), "value": at_least}
    if threshold.kind == "value_count":  # at least one event per group, and that many distinct values
        body.update(value=1, cardinality=[{"field": threshold.field, "value": at_least}])
    window = _seconds(about, threshold.timespan)
    return {"threshold": body, **_schedule(window, window, ends_ago=LATE_SECONDS)}


def _threat(about: _About) -> list[dict[str, Any]]:
    """The MITRE ATT&CK mapping of the rule's Sigma tags: one entry per tactic, each with the
    tagged techniques that serve it."""
    tactics: list[str] = []
    techniques: list[str] = []
    for tag in about.tags:
        namespace, _, value = tag.lower().partition(".")
        if namespace != "attack" or _GROUP_OR_SOFTWARE_TAG.fullmatch(value):
            continue  # groups and software have no place in a rule's threat mapping
        if _TECHNIQUE_TAG.fullmatch(value):
            techniques.append(value.upper())
        elif value in TACTICS:
            tactics.append(value)
        else:
            raise ConfigError(f"rule {about.name!r} ({about.rule_id}): tag {tag} is no ATT&CK tactic this "
                              f"generator knows ({', '.join(TACTICS)})")
    placed: dict[str, dict[str, set[str]]] = {tactic: {} for tactic in tactics}  # tactic -> technique -> subs
    for technique in techniques:
        parent = technique.split(".")[0]
        if parent not in TECHNIQUES or (technique != parent and technique not in SUBTECHNIQUES):
            raise ConfigError(f"rule {about.name!r} ({about.rule_id}): ATT&CK technique {technique} is not in "
                              "the generator's table (connector/content/elastic_rules.py); add its name and tactics")
        homes = [tactic for tactic in tactics if tactic in TECHNIQUES[parent][1]]
        if not homes:
            raise ConfigError(f"rule {about.name!r} ({about.rule_id}): technique {technique} serves none of the "
                              f"rule's tactics; tag one of {', '.join(TECHNIQUES[parent][1])}")
        for tactic in homes:
            subs = placed[tactic].setdefault(parent, set())
            if technique != parent:
                subs.add(technique)
    return [{"framework": "MITRE ATT&CK", "tactic": _tactic(tactic),
             "technique": [_technique(parent, sorted(subs)) for parent, subs in sorted(placed[tactic].items())]}
            for tactic in tactics]


def _tactic(tag: str) -> dict[str, str]:
    tactic_id, name = TACTICS[tag]
    return {"id": tactic_id, "name": name, "reference": f"{ATTACK}/tactics/{tactic_id}/"}


def _technique(technique_id: str, subtechniques: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": technique_id, "name": TECHNIQUES[technique_id][0],
                             "reference": f"{ATTACK}/techniques/{technique_id}/"}
    if subtechniques:
        entry["subtechnique"] = [
            {"id": sub, "name": SUBTECHNIQUES[sub], "reference": f"{ATTACK}/techniques/{sub.replace('.', '/')}/"}
            for sub in subtechniques]
    return entry


def _seconds(about: _About, span: str) -> int:
    """A Sigma timespan (``1m``, ``5m``, ``2h``, ``30d``) in seconds."""
    matched = _SPAN.fullmatch(span)
    if matched is None or int(matched.group(1)) == 0:
        raise ConfigError(f"rule {about.name!r} ({about.rule_id}): timespan {span!r} is not a number of "
                          "s, m, h, d or w")
    return int(matched.group(1)) * _UNIT_SECONDS[matched.group(2)]


def _duration(seconds: int) -> str:
    """Seconds as Kibana's rule schedule writes them, in the largest whole unit of s, m and h."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


@cache
def _sigma_documents(path: str) -> dict[str, dict[str, Any]]:
    """The rules of one Sigma file by id, for what the conversion leaves out (references, false
    positives, author)."""
    if not path or not Path(path).is_file():
        return {}
    documents = yaml.safe_load_all(Path(path).read_text(encoding="utf-8"))
    return {str(d["id"]): d for d in documents if isinstance(d, dict) and "id" in d}
