"""CloudTrail records -> ECS documents, following Elastic's AWS integration.

The plain field moves come from ``mappings/cloudtrail.yaml``; the rules below are the ones
that need code: outcome, source.ip vs AWS service names, user agents, console-login flags,
ECS categorization, group/user targets; entities come from ``cloudtrail_entities``.
"""

from __future__ import annotations

from typing import Any

import orjson

from connector.enrich.addresses import AddressBook
from connector.formats.base import RawBatch
from connector.normalize.cloudtrail_entities import EntityTable
from connector.normalize.docpaths import FieldMoves
from connector.normalize.hotloop import collector_paused
from connector.normalize.java_text import clean_and_render
from connector.normalize.output import Normalized
from connector.normalize.specs import load_spec
from connector.normalize.timestamps import utc_now_iso
from connector.normalize.user_agents import UserAgentParser
from connector.sinks.base import DeadLetter

DATASET = "aws.cloudtrail"
# Elastic keeps the text rendering only below Lucene's term limit.
MAX_RENDERED = 32_766
# Source objects of this many IP addresses are kept serialized (CloudTrail callers are far fewer).
MAX_SOURCES = 65_536


def _bool_from_yes_no(value: Any) -> bool:
    return str(value).lower() not in ("no", "false")


NestedFreeForm = tuple[str, tuple[str, ...], tuple[str, ...], str]


def _nested_free_form(source: str, name: str) -> NestedFreeForm:
    """A ``free_form`` entry with dotted paths -> (first record key, the keys below it, the
    containers of the name under ``aws.cloudtrail`` and ``aws.cloudtrail.flattened``, the name)."""
    first, *inner = source.split(".")
    *parents, leaf = name.split(".")
    return first, tuple(inner), tuple(parents), leaf


class CloudTrailNormalizer:
    """Maps CloudTrail records (already parsed JSON objects) to ECS documents."""

    def __init__(self, addresses: AddressBook, keep_original: bool = False) -> None:
        spec = load_spec("cloudtrail")
        self._addresses = addresses
        self._keep_original = keep_original
        self._user_agents = UserAgentParser()
        self._moves = FieldMoves(spec["fields"], spec["constants"])
        free_form: dict[str, str] = spec["free_form"]
        # Top-level objects in the plain loop; the few nested ones (userIdentity...) walk their path.
        self._free_form = [(s, n) for s, n in free_form.items() if "." not in s and "." not in n]
        self._nested_free_form = [_nested_free_form(s, n) for s, n in free_form.items() if "." in s or "." in n]
        self._categories = {
            name: (list(v["category"]) if "category" in v else None, list(v["type"]))
            for name, v in spec["categories"].items()
        }
        self._default_type = list(spec["default_category"]["type"])
        self._entities = EntityTable()
        self._sources: dict[str, orjson.Fragment] = {}

    def normalize(self, raw: RawBatch, origin: str) -> Normalized:
        """Map every record; a record of the wrong shape becomes a dead letter with the reason."""
        ingested = utc_now_iso()
        out = Normalized()
        originals = raw.originals
        dumps = orjson.dumps
        with collector_paused():
            for i, rec in enumerate(raw.records):
                try:
                    if not isinstance(rec, dict):
                        raise ValueError(f"expected a JSON object, found {type(rec).__name__}")
                    original = originals[i] if originals is not None else None
                    doc = self.map_record(rec, original, ingested)
                    encoded = dumps(doc)
                except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONEncodeError,
                        RecursionError) as exc:  # RecursionError: a record nested too deeply
                    out.dead.append(DeadLetter(rec, f"unreadable CloudTrail record: {exc}", origin,
                                               f"record {raw.locations[i]}"))
                    continue
                out.encoded.append(encoded)
                out.ids.append(str(doc["event"].get("id", "")))
                out.timestamps.append(doc.get("@timestamp", ingested))
        return out

    def map_record(self, rec: dict[str, Any], original: str | None, ingested: str) -> dict[str, Any]:
        """One CloudTrail record -> one ECS document."""
        related: dict[str, list[Any]] = {}
        doc = self._moves.build(rec, related)
        related_users: list[str] = related.get("user", [])
        if "eventID" not in rec and "eventTime" not in rec:
            raise ValueError("not a CloudTrail record (no eventID and no eventTime)")
        event = doc.setdefault("event", {})
        event["ingested"] = ingested
        if original is not None and self._keep_original:
            event["original"] = original
        aws = doc.setdefault("aws", {}).setdefault("cloudtrail", {})
        flattened: dict[str, Any] = {}
        for source, name in self._free_form:
            value = rec.get(source)
            if value is None:
                continue
            cleaned, text = clean_and_render(value)
            if cleaned is None:
                continue
            if not isinstance(value, (dict, list)):
                text = str(value)
            aws[name] = text
            if len(text) < MAX_RENDERED:
                flattened[name] = cleaned
        for source, inner, parents, name in self._nested_free_form:
            value = rec.get(source)
            for key in inner:
                if value.__class__ is not dict:
                    value = None
                    break
                value = value.get(key)
            if value is not None:
                self._keep_nested(value, parents, name, aws, flattened)
        if flattened:
            existing = aws.get("flattened")
            aws["flattened"] = flattened if existing is None else {**existing, **flattened}
        self._source(rec, doc)
        self._user_agent(rec, doc)
        self._identity(rec, doc, related_users)
        self._categorize(rec, doc, event, aws)
        self._targets(aws, doc, related_users)
        self._resources(rec, aws)
        self._entities.apply(rec, doc)
        self._tls(rec, doc)
        if related_users:
            doc.setdefault("related", {})["user"] = related_users
        provider = event.get("provider")
        if isinstance(provider, str) and provider.endswith(".amazonaws.com"):
            doc["cloud"]["service"] = {"name": provider.split(".", 1)[0]}
        return doc

    @staticmethod
    def _keep_nested(value: Any, parents: tuple[str, ...], name: str, aws: dict[str, Any],
                     flattened: dict[str, Any]) -> None:
        """A nested free-form object: its text at ``aws.cloudtrail.<parents>.<name>``, the object
        at ``aws.cloudtrail.flattened.<parents>.<name>``."""
        cleaned, text = clean_and_render(value)
        if cleaned is None:
            return
        if not isinstance(value, (dict, list)):
            text = str(value)
        text_at = aws
        for part in parents:
            text_at = text_at.setdefault(part, {})
        text_at[name] = text
        if len(text) < MAX_RENDERED:
            for part in parents:
                flattened = flattened.setdefault(part, {})
            flattened[name] = cleaned

    def _source(self, rec: dict[str, Any], doc: dict[str, Any]) -> None:
        # sourceIPAddress holds an address, or a service name such as ec2.amazonaws.com.
        address = rec.get("sourceIPAddress")
        if not address or not isinstance(address, str):
            return
        source = self._sources.get(address)
        if source is None:
            source = self._source_object(address)
        doc["source"] = source
        if source.__class__ is orjson.Fragment:  # an IP address, not a service name
            doc.setdefault("related", {})["ip"] = [address]

    def _source_object(self, address: str) -> Any:
        """ECS ``source`` for ``address``: serialized once per IP address (with its geo and AS)."""
        info = self._addresses.lookup(address)
        if info is None:
            return {"address": address}
        text = orjson.dumps(address)
        source = orjson.Fragment(b'{"address":' + text + b',"ip":' + text + info.place_json.encode() + b"}")
        if len(self._sources) >= MAX_SOURCES:
            self._sources.clear()
        self._sources[address] = source
        return source

    def _user_agent(self, rec: dict[str, Any], doc: dict[str, Any]) -> None:
        agent = rec.get("userAgent")
        if agent and isinstance(agent, str):
            doc["user_agent"] = self._user_agents(agent)

    def _identity(self, rec: dict[str, Any], doc: dict[str, Any], related_users: list[str]) -> None:
        identity = rec.get("userIdentity")
        if not isinstance(identity, dict):
            return
        user = doc.setdefault("user", {})
        if identity.get("type") == "Root" and "name" not in user:
            # Root has no user name in CloudTrail; SOC content keys on it, so name it.
            user["name"] = "root"
            related_users.append("root")
        for candidate in (identity.get("userName"), str(identity.get("principalId", "")).rpartition(":")[2]):
            if isinstance(candidate, str) and "@" in candidate and "." in candidate.rpartition("@")[2]:
                user["email"] = candidate
                break
        arn = identity.get("arn")
        if arn:
            user["entity"] = {"id": [arn]}
            doc["actor"] = {"entity": {"id": [arn]}}
        if not user:
            del doc["user"]

    def _categorize(self, rec: dict[str, Any], doc: dict[str, Any], event: dict[str, Any],
                    aws: dict[str, Any]) -> None:
        action = rec.get("eventName")
        failed = rec.get("errorCode") or rec.get("errorMessage")
        event["outcome"] = "failure" if failed else "success"
        category = self._categories.get(action) if isinstance(action, str) else None
        if category is not None:
            if category[0] is not None:
                event["category"] = category[0]
            event["type"] = category[1]
        else:
            event["type"] = self._default_type
        if action == "ConsoleLogin":
            response = rec.get("responseElements")
            result = response.get("ConsoleLogin") if isinstance(response, dict) else None
            if isinstance(result, str):
                event["outcome"] = result.lower()
            extra = rec.get("additionalEventData")
            if isinstance(extra, dict):
                flags: dict[str, Any] = {}
                if "MobileVersion" in extra:
                    flags["mobile_version"] = _bool_from_yes_no(extra["MobileVersion"])
                if extra.get("LoginTo"):
                    flags["login_to"] = extra["LoginTo"]
                if "MFAUsed" in extra:
                    flags["mfa_used"] = _bool_from_yes_no(extra["MFAUsed"])
                if flags:
                    aws["console_login"] = {"additional_eventdata": flags}
        if rec.get("eventType") == "AwsCloudTrailInsight":
            event["kind"] = "alert" if rec.get("insightDetails") else "event"

    def _targets(self, aws: dict[str, Any], doc: dict[str, Any], related_users: list[str]) -> None:
        flat = aws.get("flattened", {})
        request = flat.get("request_parameters")
        response = flat.get("response_elements")
        if isinstance(response, dict):
            group = response.get("group")
            if isinstance(group, dict) and group.get("groupId"):
                doc.setdefault("group", {})["id"] = group["groupId"]
            created = response.get("user")
            if isinstance(created, dict) and created.get("userId"):
                doc.setdefault("user", {}).setdefault("target", {})["id"] = created["userId"]
        if isinstance(request, dict):
            if isinstance(request.get("groupName"), str):
                doc.setdefault("group", {})["name"] = request["groupName"]
            target_user = request.get("userName")
            if isinstance(target_user, str):
                doc.setdefault("user", {}).setdefault("target", {})["name"] = target_user
                if target_user not in related_users:
                    related_users.append(target_user)
            new_name = request.get("newUserName")
            if isinstance(new_name, str):
                doc.setdefault("user", {}).setdefault("changes", {})["name"] = new_name
                if new_name not in related_users:
                    related_users.append(new_name)

    @staticmethod
    def _resources(rec: dict[str, Any], aws: dict[str, Any]) -> None:
        resources = rec.get("resources")
        if not isinstance(resources, list):
            return
        unique: dict[str, dict[str, Any]] = {}
        for item in resources:
            if not isinstance(item, dict):
                continue
            res = {("arn" if k == "ARN" else "account_id" if k == "accountId" else k): v for k, v in item.items()}
            unique[f"{res.get('arn', '')}_{res.get('account_id', '')}_{res.get('type', '')}"] = res
        if unique:
            aws["resources"] = list(unique.values())

    @staticmethod
    def _tls(rec: dict[str, Any], doc: dict[str, Any]) -> None:
        details = rec.get("tlsDetails")
        version = details.get("tlsVersion") if isinstance(details, dict) else None
        if isinstance(version, str) and "v" in version:
            protocol, _, number = version.partition("v")
            tls = doc.setdefault("tls", {})
            tls["version_protocol"] = protocol.lower()
            tls["version"] = number
