"""AWS Config items and notifications -> ECS documents (``mappings/config.yaml`` plus the rules
for ids, event types, snapshots, diffs and compliance)."""

from __future__ import annotations

from typing import Any

import orjson

from connector.formats.base import RawBatch
from connector.formats.config import CHANGE, COMPLIANCE, SNAPSHOT_ITEM
from connector.normalize.docpaths import FieldMoves, iso_millis
from connector.normalize.hotloop import collector_paused
from connector.normalize.output import Normalized
from connector.normalize.specs import load_spec
from connector.normalize.timestamps import utc_now_iso
from connector.sinks.base import DeadLetter

DATASET = "aws.config"
COMPLIANCE_RESOURCE = "AWS::Config::ResourceCompliance"


class ConfigNormalizer:
    """Maps ``(kind, record)`` pairs from ``ConfigReader`` to ECS documents."""

    def __init__(self, keep_original: bool = False) -> None:
        spec = load_spec("config")
        self._keep_original = keep_original
        self._item = FieldMoves(spec["item_fields"], spec["constants"])
        self._compliance = FieldMoves(spec["compliance_fields"], spec["constants"])
        self._status_types = {k: list(v) for k, v in spec["item_status_types"].items()}

    def normalize(self, raw: RawBatch, origin: str) -> Normalized:
        """Map every record; one of the wrong shape becomes a dead letter with the reason."""
        ingested = utc_now_iso()
        out = Normalized()
        with collector_paused():
            for (kind, rec), loc in zip(raw.records, raw.locations, strict=True):
                try:
                    doc = self._compliance_doc(rec) if kind == COMPLIANCE else self._item_doc(kind, rec)
                    doc["event"]["ingested"] = ingested
                    encoded = orjson.dumps(doc)
                except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONEncodeError,
                        RecursionError) as exc:  # RecursionError: a record nested too deeply
                    out.dead.append(DeadLetter(rec, f"unreadable AWS Config record: {exc}", origin, f"record {loc}"))
                    continue
                out.encoded.append(encoded)
                out.ids.append(doc["event"]["id"])
                out.timestamps.append(doc["@timestamp"])
        return out

    def _item_doc(self, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        item = rec["configurationItem"] if kind == CHANGE else rec
        if not isinstance(item, dict):
            raise ValueError("configurationItem is not an object")
        for required in ("resourceType", "resourceId", "configurationItemCaptureTime"):
            if not item.get(required):
                raise ValueError(f"configuration item without {required}")
        doc = self._item.build(item, {})
        event = doc["event"]
        state = item.get("configurationStateId", item.get("configurationItemCaptureTime"))
        event["id"] = f"{item['resourceType']}/{item['resourceId']}/{state}"
        event["type"] = self._status_types.get(str(item.get("configurationItemStatus")), ["change"])
        if kind == SNAPSHOT_ITEM:
            event["kind"] = "state"
            event["type"] = ["info"]
        aws = doc["aws"]["config"]
        if kind == CHANGE:
            event["action"] = "ConfigurationItemChangeNotification"
            diff = rec.get("configurationItemDiff")
            if isinstance(diff, dict):
                aws["configuration_item_diff"] = diff
                if diff.get("changeType"):
                    aws["change_type"] = diff["changeType"]
            if rec.get("notificationCreationTime"):
                aws["notification_creation_time"] = iso_millis(rec["notificationCreationTime"])
        if item["resourceType"] == COMPLIANCE_RESOURCE:
            self._resource_compliance(item, doc)
        event["outcome"] = "success"
        return doc

    @staticmethod
    def _resource_compliance(item: dict[str, Any], doc: dict[str, Any]) -> None:
        configuration = item.get("configuration")
        if not isinstance(configuration, dict):
            return
        compliance = doc["aws"]["config"].setdefault("compliance", {})
        if configuration.get("complianceType"):
            compliance["type"] = configuration["complianceType"]
        rules = configuration.get("configRuleList")
        if isinstance(rules, list):
            names = [r["configRuleName"] for r in rules if isinstance(r, dict) and r.get("configRuleName")]
            failing = [r["configRuleName"] for r in rules if isinstance(r, dict)
                       and r.get("complianceType") == "NON_COMPLIANT" and r.get("configRuleName")]
            if names:
                doc["rule"] = {"name": failing or names}
        doc["event"]["category"] = ["configuration"]
        doc["event"]["type"] = ["info"]

    def _compliance_doc(self, rec: dict[str, Any]) -> dict[str, Any]:
        result = rec.get("newEvaluationResult")
        if not isinstance(result, dict):
            raise ValueError("ComplianceChangeNotification without newEvaluationResult")
        doc = self._compliance.build(rec, {})
        qualifier = (result.get("evaluationResultIdentifier") or {}).get("evaluationResultQualifier") or {}
        aws = doc["aws"]["config"]
        for src, dst in (("resourceType", "resource_type"), ("resourceId", "resource_id")):
            if dst not in aws and qualifier.get(src):
                aws[dst] = qualifier[src]
        if "rule" not in doc and qualifier.get("configRuleName"):
            doc["rule"] = {"name": qualifier["configRuleName"]}
            aws.setdefault("compliance", {})["rule_name"] = qualifier["configRuleName"]
        event = doc["event"]
        recorded = result.get("resultRecordedTime") or rec.get("notificationCreationTime")
        event["id"] = "/".join(str(x) for x in ("compliance", doc.get("rule", {}).get("name"),
                                                aws.get("resource_type"), aws.get("resource_id"), recorded))
        event["action"] = "ComplianceChangeNotification"
        event["type"] = ["change"]
        event["outcome"] = "success"
        if "@timestamp" not in doc and recorded:
            doc["@timestamp"] = iso_millis(recorded)
        if "@timestamp" not in doc:
            raise ValueError("ComplianceChangeNotification without notificationCreationTime")
        return doc
