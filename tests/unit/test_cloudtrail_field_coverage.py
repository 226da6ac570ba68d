"""Every field of CloudTrail's record reaches a documented place, is searchable in both index
templates, and is what the Sigma pipeline sends a rule's CloudTrail field name to."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from connector.normalize.java_text import java_text
from connector.normalize.specs import mappings_dir
from tests.unit._support import gz, process
from tests.unit.cloudtrail_records import EVERY_FIELD

KEY = ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/"
       "111122223333_CloudTrail_us-east-1_20261127T1020Z_FullRecordAbCdEf.json.gz")

# CloudTrail field -> its place in the document (the table of docs/schema.md). The Sigma
# pipeline must map each name to the same place.
PLACES: dict[str, str] = {
    "eventTime": "@timestamp",
    "eventVersion": "aws.cloudtrail.event_version",
    "userIdentity.type": "aws.cloudtrail.user_identity.type",
    "userIdentity.userName": "user.name",
    "userIdentity.principalId": "user.id",
    "userIdentity.arn": "aws.cloudtrail.user_identity.arn",
    "userIdentity.accountId": "cloud.account.id",
    "userIdentity.accessKeyId": "aws.cloudtrail.user_identity.access_key_id",
    "userIdentity.invokedBy": "aws.cloudtrail.user_identity.invoked_by",
    "userIdentity.invokedByDelegate.accountId": "aws.cloudtrail.user_identity.invoked_by_delegate.account_id",
    "userIdentity.credentialId": "aws.cloudtrail.user_identity.credential_id",
    "userIdentity.identityProvider": "aws.cloudtrail.user_identity.identity_provider",
    "userIdentity.onBehalfOf.userId": "aws.cloudtrail.user_identity.on_behalf_of.user_id",
    "userIdentity.onBehalfOf.identityStoreArn": "aws.cloudtrail.user_identity.on_behalf_of.identity_store_arn",
    "userIdentity.inScopeOf.sourceArn": "aws.cloudtrail.user_identity.in_scope_of.source_arn",
    "userIdentity.inScopeOf.sourceAccount": "aws.cloudtrail.user_identity.in_scope_of.source_account",
    "userIdentity.inScopeOf.issuerType": "aws.cloudtrail.user_identity.in_scope_of.issuer_type",
    "userIdentity.inScopeOf.credentialsIssuedTo": "aws.cloudtrail.user_identity.in_scope_of.credentials_issued_to",
    "userIdentity.sessionContext.attributes.creationDate":
        "aws.cloudtrail.user_identity.session_context.creation_date",
    "userIdentity.sessionContext.attributes.mfaAuthenticated":
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    "userIdentity.sessionContext.sessionIssuer.type":
        "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "userIdentity.sessionContext.sessionIssuer.principalId":
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "userIdentity.sessionContext.sessionIssuer.arn": "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "userIdentity.sessionContext.sessionIssuer.accountId":
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "userIdentity.sessionContext.sessionIssuer.userName":
        "aws.cloudtrail.user_identity.session_context.session_issuer.user_name",
    "userIdentity.sessionContext.webIdFederationData.federatedProvider":
        "aws.cloudtrail.user_identity.session_context.web_id_federation_data.federated_provider",
    "userIdentity.sessionContext.webIdFederationData.attributes":
        "aws.cloudtrail.user_identity.session_context.web_id_federation_data.attributes",
    "userIdentity.sessionContext.sourceIdentity": "aws.cloudtrail.user_identity.session_context.source_identity",
    "userIdentity.sessionContext.ec2RoleDelivery": "aws.cloudtrail.user_identity.session_context.ec2_role_delivery",
    "userIdentity.sessionContext.assumedRoot": "aws.cloudtrail.user_identity.session_context.assumed_root",
    "eventSource": "event.provider",
    "eventName": "event.action",
    "awsRegion": "cloud.region",
    "sourceIPAddress": "source.address",
    "userAgent": "user_agent.original",
    "errorCode": "aws.cloudtrail.error_code",
    "errorMessage": "aws.cloudtrail.error_message",
    "requestParameters": "aws.cloudtrail.request_parameters",
    "responseElements": "aws.cloudtrail.response_elements",
    "additionalEventData": "aws.cloudtrail.additional_eventdata",
    "requestID": "aws.cloudtrail.request_id",
    "eventID": "event.id",
    "eventType": "aws.cloudtrail.event_type",
    "apiVersion": "aws.cloudtrail.api_version",
    "managementEvent": "aws.cloudtrail.management_event",
    "readOnly": "aws.cloudtrail.read_only",
    "resources.ARN": "aws.cloudtrail.resources.arn",
    "resources.accountId": "aws.cloudtrail.resources.account_id",
    "resources.type": "aws.cloudtrail.resources.type",
    "recipientAccountId": "aws.cloudtrail.recipient_account_id",
    "serviceEventDetails": "aws.cloudtrail.service_event_details",
    "sharedEventID": "aws.cloudtrail.shared_event_id",
    "vpcEndpointId": "aws.cloudtrail.vpc_endpoint_id",
    "vpcEndpointAccountId": "aws.cloudtrail.vpc_endpoint_account_id",
    "eventCategory": "aws.cloudtrail.event_category",
    "addendum.reason": "aws.cloudtrail.addendum.reason",
    "addendum.updatedFields": "aws.cloudtrail.addendum.updated_fields",
    "addendum.originalRequestID": "aws.cloudtrail.addendum.original_request_id",
    "addendum.originalEventID": "aws.cloudtrail.addendum.original_event_id",
    "sessionCredentialFromConsole": "aws.cloudtrail.session_credential_from_console",
    "eventContext": "aws.cloudtrail.event_context",
    "edgeDeviceDetails": "aws.cloudtrail.edge_device_details",
    "tlsDetails.tlsVersion": "aws.cloudtrail.tls_details.tls_version",
    "tlsDetails.cipherSuite": "tls.cipher",
    "tlsDetails.clientProvidedHostHeader": "tls.client.server_name",
    "insightDetails": "aws.cloudtrail.insight_details",
}

# Objects whose keys vary per call: a text rendering (PLACES) plus the object under `flattened`.
FREE_FORM: dict[str, str] = {
    "requestParameters": "aws.cloudtrail.flattened.request_parameters",
    "responseElements": "aws.cloudtrail.flattened.response_elements",
    "additionalEventData": "aws.cloudtrail.flattened.additional_eventdata",
    "serviceEventDetails": "aws.cloudtrail.flattened.service_event_details",
    "insightDetails": "aws.cloudtrail.flattened.insight_details",
    "edgeDeviceDetails": "aws.cloudtrail.flattened.edge_device_details",
    "eventContext": "aws.cloudtrail.flattened.event_context",
    "userIdentity.sessionContext.webIdFederationData.attributes":
        "aws.cloudtrail.flattened.user_identity.session_context.web_id_federation_data.attributes",
}

# Where the stored value is a conversion of the record's, not the value itself.
CONVERTED: dict[str, Any] = {
    "eventTime": "2026-11-27T10:20:30.000Z",
    "userIdentity.sessionContext.attributes.creationDate": "2026-11-27T09:45:00.000Z",
    # An assumed role's issuer names the user, as in Elastic's pipeline (see the test below).
    "userIdentity.userName": "Deployer",
}

SEARCHABLE = frozenset({"keyword", "date", "boolean", "long", "ip"})
FLATTENED = frozenset({"flattened", "flat_object"})


def _record_value(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for key in path.split("."):
        node = [item[key] for item in node] if isinstance(node, list) else node[key]
    return node[0] if isinstance(node, list) and len(node) == 1 else node


def _doc_value(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; through a list of objects, the list of their values."""
    node: Any = doc
    for key in path.split("."):
        if isinstance(node, list):
            node = [item.get(key) for item in node]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise AssertionError(f"{path}: nothing at {key!r}")
    return node[0] if isinstance(node, list) and len(node) == 1 else node


def _leaves(node: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the leaves of a document (lists of objects walked through)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for item in node:
            yield from _leaves(item, prefix)
    else:
        yield prefix[:-1]


def _record_fields(record: dict[str, Any]) -> set[str]:
    """The record's fields as the record reference names them: a free-form object by its name."""
    fields: set[str] = set()
    for path in _leaves(record):
        owner = next((name for name in FREE_FORM if path == name or path.startswith(name + ".")), None)
        fields.add(owner or path)
    return fields


def _normalized(processor: Any, record: dict[str, Any]) -> dict[str, Any]:
    out = process(processor, gz(json.dumps({"Records": [copy.deepcopy(record)]})), KEY)
    assert not out.dead and len(out.docs) == 1, out.dead
    return out.docs[0]


def test_the_record_carries_every_field_of_the_table() -> None:
    assert _record_fields(EVERY_FIELD) == set(PLACES)


def test_every_field_lands_at_its_documented_place(processor: Any) -> None:
    doc = _normalized(processor, EVERY_FIELD)
    for field, place in PLACES.items():
        value = _record_value(EVERY_FIELD, field)
        if field in FREE_FORM:
            assert _doc_value(doc, place) == java_text(value), field
            assert _doc_value(doc, FREE_FORM[field]) == value, field
        else:
            assert _doc_value(doc, place) == CONVERTED.get(field, value), field
    # The derived ECS fields beside them.
    assert doc["source"]["ip"] == "81.2.69.142"
    assert doc["error"] == {"code": "AccessDenied", "message": EVERY_FIELD["errorMessage"]}
    assert doc["tls"]["version_protocol"] == "tls" and doc["tls"]["version"] == "1.3"
    assert {"deploy-user", "Deployer"} <= set(doc["related"]["user"])


def test_user_name_is_the_identity_s_own_without_an_issuer(processor: Any) -> None:
    record = copy.deepcopy(EVERY_FIELD)
    del record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"]
    doc = _normalized(processor, record)
    assert doc["user"]["name"] == "deploy-user"
    assert "user_name" not in doc["aws"]["cloudtrail"]["user_identity"]["session_context"]["session_issuer"]


def test_a_free_form_object_too_long_to_flatten_keeps_its_text_only(processor: Any) -> None:
    record = copy.deepcopy(EVERY_FIELD)
    long_value = {"token.actions.githubusercontent.com:sub": "x" * 40_000}
    record["userIdentity"]["sessionContext"]["webIdFederationData"]["attributes"] = long_value
    doc = _normalized(processor, record)
    assert _doc_value(doc, PLACES["userIdentity.sessionContext.webIdFederationData.attributes"]) == \
        java_text(long_value)
    assert "user_identity" not in doc["aws"]["cloudtrail"]["flattened"]


# -- the index templates and the Sigma pipeline ---------------------------------------------------


def _template_types(kind: str) -> dict[str, str]:
    """Field path -> mapping type over every component of the CloudTrail index template."""
    folder = mappings_dir() / kind
    composed = json.loads((folder / "index_templates" / "logs-aws_connector.cloudtrail.json").read_text())
    types: dict[str, str] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
            else:
                types[prefix + name] = spec.get("type", "object")

    for component in composed["composed_of"]:
        template = json.loads((folder / "component_templates" / f"{component}.json").read_text())
        walk(template["template"].get("mappings", {}).get("properties", {}), "")
    return types


def _mapped(types: dict[str, str], path: str) -> bool:
    """True if a search can reach ``path``: mapped itself, or a key inside a flattened object."""
    if path in types:
        return types[path] != "object"
    parts = path.split(".")
    return any(types.get(".".join(parts[:end])) in FLATTENED for end in range(1, len(parts)))


def _pipeline_fields() -> dict[str, str]:
    pipeline = yaml.safe_load((mappings_dir() / "sigma" / "aws_connector_ecs.yml").read_text())
    section = next(t for t in pipeline["transformations"] if t["id"] == "cloudtrail_fields")
    mapping: dict[str, str] = section["mapping"]
    return mapping


def test_the_pipeline_sends_every_cloudtrail_field_to_its_place() -> None:
    assert _pipeline_fields() == PLACES


@pytest.mark.parametrize("kind", ["elasticsearch", "opensearch"])
def test_every_pipeline_target_is_searchable_in_the_template(kind: str) -> None:
    types = _template_types(kind)
    wrong = {path: types.get(path) for path in _pipeline_fields().values() if types.get(path) not in SEARCHABLE}
    assert not wrong, wrong
    for field in FREE_FORM:
        assert types[PLACES[field]] == "keyword", field
        assert types[FREE_FORM[field]] in FLATTENED, field


@pytest.mark.parametrize("kind", ["elasticsearch", "opensearch"])
def test_nothing_the_normalizer_writes_under_aws_cloudtrail_is_invisible(processor: Any, kind: str) -> None:
    types = _template_types(kind)
    written = {path for path in _leaves(_normalized(processor, EVERY_FIELD)) if path.startswith("aws.cloudtrail.")}
    assert written
    assert sorted(path for path in written if not _mapped(types, path)) == []
