"""CloudTrail objects and records: reading every shape AWS delivers and mapping to ECS as Elastic does."""

from __future__ import annotations

import copy
import io
import json

import pytest

from connector.formats.base import RawBatch
from connector.formats.cloudtrail import DIGEST_RULE, EMPTY_RULE, WRITABILITY_RULE, CloudTrailReader
from connector.normalize.java_text import java_text
from tests.unit._support import gz, process, run_pipeline, unit
from tests.unit.cloudtrail_records import (
    ACCESS_DENIED,
    ASSUME_ROLE,
    CONSOLE_LOGIN_FAILURE,
    ROOT_LOGIN,
    SERVICE_CALL,
)

KEY = ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/"
       "111122223333_CloudTrail_us-east-1_20261127T1020Z_AbCdEfGhIjKlMnOp.json.gz")
ORG_KEY = ("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/11/27/"
           "111122223333_CloudTrail_us-east-1_20261127T1020Z_AbCdEfGhIjKlMnOp.json.gz")


def record(i: int, **extra) -> dict:
    return {"eventVersion": "1.08", "eventTime": f"2026-11-27T10:00:0{i}Z", "eventID": f"id-{i}",
            "eventName": "DescribeInstances", "eventSource": "ec2.amazonaws.com", "awsRegion": "us-east-1", **extra}


def docs_of(processor, rec: dict) -> dict:
    out = process(processor, gz(json.dumps({"Records": [copy.deepcopy(rec)]})), KEY)
    assert not out.dead and len(out.docs) == 1, out.dead
    return out.docs[0]


# -- object shapes -----------------------------------------------------------------------------------


def test_records_document_in_gzip_yields_one_document_per_record(processor):
    out = process(processor, gz(json.dumps({"Records": [record(1), record(2), record(3)]})), ORG_KEY)
    assert [d["event"]["id"] for d in out.docs] == ["id-1", "id-2", "id-3"]
    assert all(d["event"]["dataset"] == "aws.cloudtrail" for d in out.docs)


def test_ndjson_lines_yield_one_document_per_line(processor):
    text = "\n".join(json.dumps(record(i)) for i in range(1, 4)) + "\n"
    out = process(processor, text.encode(), "export.ndjson", "cloudtrail")
    assert [d["event"]["id"] for d in out.docs] == ["id-1", "id-2", "id-3"]


def test_a_single_record_object_yields_one_document(processor):
    out = process(processor, json.dumps(record(1)).encode(), "one.json")
    assert [d["event"]["id"] for d in out.docs] == ["id-1"]


def test_invalid_json_line_is_dead_lettered_with_its_line_and_neighbours_flow(processor):
    text = "\n".join([json.dumps(record(1)), '{"eventVersion": "1.08", "eventID": ', json.dumps(record(3))])
    summary, sink, dlq = run_pipeline(processor, [unit(text.encode(), "export.ndjson", "cloudtrail")])
    assert [d["event"]["id"] for d in sink.docs] == ["id-1", "id-3"]
    assert len(dlq.letters) == 1
    assert dlq.letters[0].location == "line 2" and "invalid JSON" in dlq.letters[0].reason
    assert (summary.read, summary.written, summary.dead_lettered) == (3, 2, 1)


def test_insights_record_becomes_an_alert(processor):
    insight = {"eventVersion": "1.08", "eventTime": "2026-11-27T10:00:00Z", "awsRegion": "us-east-1",
               "eventID": "ins-1", "eventType": "AwsCloudTrailInsight", "recipientAccountId": "111122223333",
               "sharedEventID": "s-1", "eventCategory": "Insight",
               "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
                                  "insightType": "ApiCallRateInsight",
                                  "insightContext": {"statistics": {"baseline": {"average": 0.1},
                                                                    "insight": {"average": 5.0}}}}}
    key = "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/27/111122223333_CloudTrail-Insight_x.json.gz"
    out = process(processor, gz(json.dumps({"Records": [insight]})), key)
    assert len(out.docs) == 1
    doc = out.docs[0]
    assert doc["event"]["kind"] == "alert" and doc["event"]["id"] == "ins-1"
    assert doc["aws"]["cloudtrail"]["flattened"]["insight_details"]["insightType"] == "ApiCallRateInsight"
    assert doc["aws"]["cloudtrail"]["event_type"] == "AwsCloudTrailInsight"


def test_digest_object_is_skipped_by_key(processor):
    key = ("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/27/"
           "111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261127T102000Z.json.gz")
    summary, _sink, _dlq = run_pipeline(processor, [unit(gz(b'{"awsAccountId": "111122223333"}'), key)])
    assert (summary.skipped, summary.written, summary.dead_lettered) == (1, 0, 0)
    assert summary.skipped_by_rule[DIGEST_RULE] == 1


def test_digest_object_is_skipped_by_content_when_the_key_does_not_say(processor):
    digest = {"awsAccountId": "111122223333", "digestStartTime": "2026-11-27T09:20:00Z",
              "digestEndTime": "2026-11-27T10:20:00Z", "digestS3Bucket": "b", "logFiles": []}
    out = process(processor, json.dumps(digest).encode(), "downloads/digest.json")
    assert not out.docs and not out.dead
    assert [s.rule for s in out.skipped] == [DIGEST_RULE]


def test_writability_check_file_is_skipped_by_rule(processor):
    key = "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile"
    summary, _, _ = run_pipeline(processor, [unit(b"", key)])
    assert summary.skipped == 1 and summary.skipped_by_rule[WRITABILITY_RULE] == 1


@pytest.mark.parametrize("data", [b"", gz(b""), b"  \n"])
def test_empty_trail_object_is_skipped_and_counted(processor, data):
    out = process(processor, data, KEY)
    assert [s.rule for s in out.skipped] == [EMPTY_RULE]
    assert not out.docs and not out.dead


@pytest.mark.parametrize(("doc", "shape"), [({"foo": 1, "bar": 2}, "object with keys bar, foo"), ([1, 2], "list"),
                                           ({"Records": "nope"}, "object with keys Records")])
def test_json_document_of_the_wrong_shape_is_dead_lettered(processor, doc, shape):
    summary, _sink, dlq = run_pipeline(processor, [unit(gz(json.dumps(doc)), KEY)])
    assert summary.dead_lettered == 1 and summary.written == 0
    assert "not a CloudTrail document" in dlq.letters[0].reason and shape in dlq.letters[0].reason


def test_record_that_is_not_an_object_is_dead_lettered_and_the_others_flow(processor):
    out = process(processor, gz(json.dumps({"Records": [record(1), "junk", record(3)]})), KEY)
    assert [d["event"]["id"] for d in out.docs] == ["id-1", "id-3"]
    assert [d.location for d in out.dead] == ["record 2"]


def test_reader_batches_records_with_their_positions():
    items = list(CloudTrailReader().read(io.BytesIO(gz(json.dumps({"Records": [record(1), record(2)]}))), "k"))
    assert len(items) == 1 and isinstance(items[0], RawBatch)
    assert items[0].locations == [1, 2]


# -- field mapping -------------------------------------------------------------------------------------


def test_timestamp_id_action_provider_cloud(processor):
    doc = docs_of(processor, ASSUME_ROLE)
    assert doc["@timestamp"] == "2026-11-27T10:20:00.000Z"
    assert doc["event"]["id"] == "b7a1c2d3-0000-4000-8000-000000000001"
    assert doc["event"]["action"] == "AssumeRole" and doc["event"]["provider"] == "sts.amazonaws.com"
    assert doc["event"]["kind"] == "event" and doc["event"]["outcome"] == "success"
    assert doc["cloud"]["account"]["id"] == "111122223333" and doc["cloud"]["region"] == "us-east-1"
    assert doc["cloud"]["provider"] == "aws" and doc["cloud"]["service"]["name"] == "sts"


@pytest.mark.parametrize(("event_time", "expected"), [
    ("2026-11-27T10:25:00.123Z", "2026-11-27T10:25:00.123Z"),
    ("2026-11-27T12:00:00+02:00", "2026-11-27T10:00:00.000Z"),
    ("2026-11-27T10:00:00.123456Z", "2026-11-27T10:00:00.123Z"),
])
def test_event_time_becomes_millisecond_utc(processor, event_time, expected):
    assert docs_of(processor, record(1, eventTime=event_time))["@timestamp"] == expected


def test_assumed_role_user_name_is_the_session_issuer(processor):
    doc = docs_of(processor, ASSUME_ROLE)
    assert doc["user"]["name"] == "Admin"
    assert doc["user"]["id"] == "AROAEXAMPLEADMIN:bob-session"
    ctx = doc["aws"]["cloudtrail"]["user_identity"]["session_context"]
    assert ctx["session_issuer"]["arn"] == "arn:aws:iam::111122223333:role/Admin"
    assert ctx["creation_date"] == "2026-11-27T09:00:00.000Z"


def test_assumed_role_user_name_is_in_related_user(processor):
    doc = docs_of(processor, ASSUME_ROLE)
    assert "Admin" in doc.get("related", {}).get("user", [])


def test_address_source_gets_ip_geo_and_related_ip(processor):
    doc = docs_of(processor, ASSUME_ROLE)
    assert doc["source"]["ip"] == "89.160.20.156" and doc["source"]["address"] == "89.160.20.156"
    assert doc["source"]["geo"]["country_iso_code"] == "SE"
    assert doc["related"]["ip"] == ["89.160.20.156"]


def test_service_name_source_is_an_address_only(processor):
    doc = docs_of(processor, SERVICE_CALL)
    assert doc["source"] == {"address": "ec2.amazonaws.com"}
    assert "ip" not in doc.get("related", {})
    assert doc["aws"]["cloudtrail"]["user_identity"] == {"type": "AWSService", "invoked_by": "ec2.amazonaws.com"}


def test_error_code_and_message_make_a_failure(processor):
    doc = docs_of(processor, ACCESS_DENIED)
    assert doc["error"]["code"] == "AccessDenied"
    assert doc["error"]["message"].startswith("User: arn:aws:iam::111122223333:user/eve is not authorized")
    assert doc["event"]["outcome"] == "failure"
    assert doc["aws"]["cloudtrail"]["error_code"] == "AccessDenied"
    assert doc["event"]["category"] == ["iam"] and doc["event"]["type"] == ["user", "creation"]
    assert doc["user"]["target"]["name"] == "mallory"
    assert doc["related"]["user"] == ["eve", "mallory"]
    assert doc["source"]["ip"] == "2001:4860:4860::8888" and doc["source"]["geo"]["country_iso_code"] == "US"


def test_console_login_failure_from_response_elements(processor):
    doc = docs_of(processor, CONSOLE_LOGIN_FAILURE)
    assert doc["event"]["outcome"] == "failure"
    assert doc["event"]["category"] == ["authentication"] and doc["event"]["type"] == ["info"]
    assert doc["error"] == {"message": "Failed authentication"}
    assert doc["user"]["name"] == "alice" and doc["related"]["user"] == ["alice"]
    flags = doc["aws"]["cloudtrail"]["console_login"]["additional_eventdata"]
    assert flags == {"mobile_version": False, "login_to": "https://console.aws.amazon.com/console/home",
                     "mfa_used": False}


def test_console_login_success_without_error_fields(processor):
    doc = docs_of(processor, ROOT_LOGIN)
    assert doc["event"]["outcome"] == "success"
    assert "error" not in doc
    assert doc["aws"]["cloudtrail"]["console_login"]["additional_eventdata"]["mfa_used"] is True


def test_console_login_response_overrides_missing_error(processor):
    rec = dict(ROOT_LOGIN, responseElements={"ConsoleLogin": "Failure"})
    assert docs_of(processor, rec)["event"]["outcome"] == "failure"


def test_root_identity_is_named_root(processor):
    doc = docs_of(processor, ROOT_LOGIN)
    assert doc["user"]["name"] == "root"
    assert "root" in doc["related"]["user"]
    assert doc["user"]["entity"]["id"] == ["arn:aws:iam::111122223333:root"]


def test_user_agent_is_parsed_into_name_version_and_os(processor):
    doc = docs_of(processor, CONSOLE_LOGIN_FAILURE)
    agent = doc["user_agent"]
    assert agent["original"] == CONSOLE_LOGIN_FAILURE["userAgent"]
    assert agent["name"] == "Chrome" and agent["version"].startswith("119.0")
    assert agent["os"]["name"] == "Windows" and agent["os"]["version"] == "10"
    cli = docs_of(processor, ASSUME_ROLE)["user_agent"]
    assert cli["name"] == "aws-cli" and cli["version"] == "2.13.5"


def test_request_parameters_are_java_text_and_flattened_object(processor):
    doc = docs_of(processor, ASSUME_ROLE)
    trail = doc["aws"]["cloudtrail"]
    assert trail["request_parameters"] == (
        "{durationSeconds=3600, roleArn=arn:aws:iam::111122223333:role/ReadOnly, roleSessionName=audit}")
    assert trail["flattened"]["request_parameters"] == ASSUME_ROLE["requestParameters"]
    assert trail["response_elements"].startswith("{assumedRoleUser={assumedRoleId=AROAEXAMPLERO:audit")
    assert trail["flattened"]["response_elements"]["credentials"]["accessKeyId"] == "ASIAEXAMPLENEW"


def test_null_request_parameters_produce_no_field(processor):
    trail = docs_of(processor, CONSOLE_LOGIN_FAILURE)["aws"]["cloudtrail"]
    assert "request_parameters" not in trail and "request_parameters" not in trail["flattened"]


def test_tls_details_become_tls_fields(processor):
    tls = docs_of(processor, CONSOLE_LOGIN_FAILURE)["tls"]
    assert tls == {"cipher": "TLS_AES_128_GCM_SHA256", "client": {"server_name": "signin.aws.amazon.com"},
                   "version_protocol": "tls", "version": "1.3"}


def test_resources_are_renamed_like_elastic(processor):
    trail = docs_of(processor, ASSUME_ROLE)["aws"]["cloudtrail"]
    assert trail["resources"] == [{"account_id": "111122223333", "type": "AWS::IAM::Role",
                                   "arn": "arn:aws:iam::111122223333:role/ReadOnly"}]


def test_record_without_event_id_or_time_is_dead_lettered(processor):
    out = process(processor, gz(json.dumps({"Records": [{"eventVersion": "1.08", "eventName": "X"}, record(2)]})),
                  KEY)
    assert [d["event"]["id"] for d in out.docs] == ["id-2"]
    assert len(out.dead) == 1 and out.dead[0].location == "record 1"


# -- Java text rendering (expected strings produced by java.util.HashMap.toString on JDK 17) -------------


@pytest.mark.parametrize(("value", "expected"), [
    ({"roleArn": "arn:aws:iam::111122223333:role/ReadOnly", "roleSessionName": "audit", "durationSeconds": 3600},
     "{durationSeconds=3600, roleArn=arn:aws:iam::111122223333:role/ReadOnly, roleSessionName=audit}"),
    ({k: len(k) for k in ["bucketName", "Host", "acl", "x-amz-acl", "policy", "encryption", "versioning", "tagging",
                          "logging", "website", "cors", "lifecycle", "replication", "notification"]},
     "{replication=11, bucketName=10, tagging=7, website=7, versioning=10, cors=4, x-amz-acl=9, Host=4, acl=3, "
     "lifecycle=9, notification=12, encryption=10, logging=7, policy=6}"),
    ({"groupId": "sg-1", "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                            "cidrIp": "0.0.0.0/0"}], "dryRun": False},
     "{dryRun=false, groupId=sg-1, ipPermissions=[{fromPort=22, toPort=22, ipProtocol=tcp, cidrIp=0.0.0.0/0}]}"),
    ({"instancesSet": 1, "filterSet": 2, "maxResults": 1000, "userName": "é☃", "𝄞key": 1.5e10},
     "{instancesSet=1, 𝄞key=1.5E10, maxResults=1000, userName=é☃, filterSet=2}"),
])
def test_java_text_matches_java_hashmap_to_string(value, expected):
    assert java_text(value) == expected


def test_java_text_drops_empty_members():
    assert java_text({"a": None, "b": "", "c": [], "d": {}, "e": "x"}) == "{e=x}"
