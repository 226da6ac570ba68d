"""Generators of hostile AWS input: every layout the connector reads, with values of every shape.

Each generator of a whole object returns the bytes together with the number of input units they
hold, counted from what was generated (never from what the connector makes of it): a record per
flow line, per CloudTrail record, per Config item or notification; an object that holds no
record at all counts as one unit, which must end skipped by rule or dead-lettered.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from connector.normalize.specs import load_spec

# -- text and values ---------------------------------------------------------------------------

# Any code point, lone surrogates included.
any_text = st.text(st.characters(), max_size=40)
# Text with the characters a log line is made of, plus NUL, control and non-ASCII ones.
line_chars = st.characters(exclude_characters="\n")
huge_numbers = st.sampled_from([
    "18446744073709551616", "-9223372036854775809", "99999999999999999999999999999999", "1e400", "-1e400",
    "1e-400", "NaN", "Infinity", "0x10", "1_000", "٣", "00000000000000000000000000001", "4294967296",
    "72057594037927936", "4611686018427387904", "-4611686018427387904", "9223372036854775808",
])
# A whitespace-free token: what one field of a flow line holds.
hostile_token = st.one_of(
    huge_numbers,
    st.sampled_from(["-", "", "\x00", "\x00\x00", "NODATA", "SKIPDATA", "\ufffd", "\ud800", "\udfff", "é",
                     "{", "}", '"', "\\", "'", "${srcaddr}", "::", "999.1.1.1", "10.0.0.1/32", "fe80::1%eth0"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12),
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value, with big integers, odd floats, empty containers and hostile text."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False, allow_infinity=False), any_text,
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
        max_leaves=max_leaves,
    )


def deep_json(depth: int, leaf: str = "1") -> str:
    """``{"a":{"a":...}}`` ``depth`` levels deep, as text (no encoder goes that deep)."""
    return '{"a":' * depth + leaf + "}" * depth


def encode_json(value: Any, style: str) -> bytes:
    """JSON text of ``value`` the ways producers write it: compact, spaced, indented, or with lone
    surrogates written raw (invalid UTF-8) instead of escaped."""
    if style == "compact":
        text = json.dumps(value, separators=(",", ":"))
    elif style == "indented":
        text = json.dumps(value, indent=2)
    elif style == "raw-surrogates":
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


json_styles = st.sampled_from(["compact", "spaced", "indented", "raw-surrogates"])


def maybe_gzip(data: bytes, compress: bool) -> bytes:
    """The bytes as an S3 object holds them: gzip-compressed or plain."""
    return gzip.compress(data, compresslevel=1) if compress else data


@dataclass(frozen=True)
class Generated:
    """Bytes of one object or payload and the number of input units they hold."""

    data: bytes
    units: int
    note: str = ""


# -- flow logs ---------------------------------------------------------------------------------

_FLOW_SPEC = load_spec("vpcflow")
KNOWN_FLOW_FIELDS = tuple(_FLOW_SPEC["fields"])
V2_LAYOUT = tuple(_FLOW_SPEC["documented_order"].split()[:14])
ACCOUNTS = ["123456789012", "111122223333", "000000000000"]

_field_values: dict[str, st.SearchStrategy[str]] = {
    "version": st.sampled_from(["2", "3", "4", "5"]),
    "account-id": st.sampled_from(ACCOUNTS),
    "interface-id": st.sampled_from(["eni-0a1b2c3d4e5f60718", "eni-1"]),
    "srcaddr": st.sampled_from(["10.0.0.5", "203.0.113.9", "8.8.8.8", "2001:db8::5", "2606:4700:4700::1111",
                                "169.254.169.254", "0.0.0.0", "255.255.255.255"]),
    "srcport": st.integers(0, 65535).map(str),
    "protocol": st.sampled_from(["6", "17", "1", "58", "0", "255"]),
    "packets": st.integers(0, 2**63).map(str),
    "start": st.integers(0, 4102444800).map(str),
    "action": st.sampled_from(["ACCEPT", "REJECT"]),
    "log-status": st.sampled_from(["OK", "NODATA", "SKIPDATA"]),
    "tcp-flags": st.sampled_from(["0", "2", "18", "19", "255"]),
    "flow-direction": st.sampled_from(["ingress", "egress"]),
}
_field_values["dstaddr"] = _field_values["srcaddr"]
_field_values["pkt-srcaddr"] = _field_values["pkt-dstaddr"] = _field_values["srcaddr"]
_field_values["dstport"] = _field_values["srcport"]
_field_values["bytes"] = _field_values["packets"]
_field_values["end"] = _field_values["start"]


def flow_value(name: str) -> st.SearchStrategy[str]:
    """A value for one flow field: a plausible one, ``-``, or a hostile token."""
    plausible = _field_values.get(name, st.sampled_from(["vpc-0abc", "subnet-1", "i-0123", "use1-az1", "-"]))
    return st.one_of(plausible, plausible, plausible, st.just("-"), hostile_token)


@st.composite
def flow_line(draw: st.DrawFn, layout: tuple[str, ...]) -> str:
    """One record of ``layout``: its fields (some hostile), sometimes one too many or too few, or junk."""
    shape = draw(st.sampled_from(["record"] * 6 + ["extra", "short", "junk", "spaces"]))
    if shape == "junk":
        return draw(st.text(line_chars, max_size=80))
    values = [draw(flow_value(name)) for name in layout]
    values = [v for v in values if v != ""] if draw(st.booleans()) else [v or "-" for v in values]
    if shape == "extra":
        values.append(draw(hostile_token) or "7")
    elif shape == "short" and values:
        values = values[: draw(st.integers(0, len(values) - 1))]
    separator = draw(st.sampled_from([" ", "  ", "\t", " \u3000 "])) if shape == "spaces" else " "
    return separator.join(values)


layouts = st.one_of(
    st.just(V2_LAYOUT),
    st.permutations(KNOWN_FLOW_FIELDS).flatmap(lambda fields: st.integers(1, len(fields)).map(lambda n: fields[:n])),
)
# Header names AWS does not write: a newer field, or damage.
hostile_header_names = st.one_of(
    st.sampled_from(["new-field", "a.b", "x(y.z", "event", "@timestamp", "aws", "a..b", ".", "if", "class.x",
                     "source.ip", "é.ü", "\x00", "__import__", "f'{x}'", "1abc"]),
    st.text(st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=10),
)


def blank(line: str) -> bool:
    """A line that carries no record: nothing but whitespace once carriage returns are dropped."""
    text = line.replace("\r", "")
    return not text or text.isspace()


def count_flow_records(text_lines: list[str], header: bool) -> int:
    """Records among decoded lines: the non-blank ones, less the header."""
    records = sum(1 for line in text_lines if not blank(line))
    return records - 1 if header and records else records


def decoded_lines(data: bytes) -> list[str]:
    """The lines of an object as the connector reads them (UTF-8, damaged bytes replaced)."""
    return data.decode("utf-8", "replace").split("\n")


@st.composite
def flow_objects(draw: st.DrawFn) -> Generated:
    """A flow-log object with a header (default v2, a custom order, or names AWS does not write)."""
    layout = draw(layouts)
    header_names = list(layout)
    if draw(st.integers(0, 4)) == 0:
        extra = draw(st.lists(hostile_header_names, min_size=1, max_size=3))
        for name in extra:
            header_names.insert(draw(st.integers(1, len(header_names))), name)
    lines = draw(st.lists(flow_line(tuple(header_names)), max_size=30))
    blanks = draw(st.lists(st.sampled_from(["", " ", "\r", "\t"]), max_size=3))
    for filler in blanks:
        lines.insert(draw(st.integers(0, len(lines))), filler)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join([" ".join(header_names), *lines]) + draw(st.sampled_from(["", ending]))
    data = text.encode("utf-8", "surrogatepass")
    # The header is the first line and names known fields, so it is read as one.
    return Generated(maybe_gzip(data, draw(st.booleans())), count_flow_records(decoded_lines(data), header=True),
                     " ".join(header_names))


@st.composite
def headerless_flow_objects(draw: st.DrawFn, layout: tuple[str, ...]) -> Generated:
    """Lines of ``layout`` without a header (CloudWatch Logs exports), some wrapped as JSON
    ``{"message": ...}`` lines the way Firehose and log exports write them."""
    lines = draw(st.lists(flow_line(layout), max_size=30))
    out: list[str] = []
    for line in lines:
        how = draw(st.sampled_from(["plain"] * 3 + ["message", "message-only", "no-message", "bad-json"]))
        if how == "message":
            out.append(json.dumps({"message": line, "timestamp": draw(json_values(3))}))
        elif how == "message-only":
            out.append(json.dumps({"message": draw(json_values(3))}))
        elif how == "no-message":
            out.append(json.dumps(draw(json_values(4))).replace("\n", " ") or "{}")
        elif how == "bad-json":
            out.append("{" + line)
        else:
            out.append(line)
    data = "\n".join(out).encode("utf-8", "surrogatepass")
    units = count_flow_records(decoded_lines(data), header=False)
    return Generated(maybe_gzip(data, draw(st.booleans())), units or 1)


# -- CloudTrail --------------------------------------------------------------------------------

def plausible_or_any(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes a value of any other shape."""
    return st.one_of(plausible, plausible, plausible, json_values(6))


times = st.one_of(
    st.datetimes().map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.sampled_from(["", "2024-13-45T99:99:99Z", "99999-01-01T00:00:00Z", "2024-05-01", "0", "now",
                     "2024-05-01T12:00:00+25:00", "2024-05-01T12:00:00.123456789Z"]),
)
identities = st.fixed_dictionaries({}, optional={
    "type": plausible_or_any(st.sampled_from(["IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser"])),
    "principalId": plausible_or_any(any_text),
    "arn": plausible_or_any(st.sampled_from(["arn:aws:iam::123456789012:user/alice", "arn:aws:sts::1:x/y/z", ""])),
    "accountId": plausible_or_any(st.sampled_from(ACCOUNTS)),
    "userName": plausible_or_any(any_text),
    "sessionContext": json_values(8),
    "invokedBy": plausible_or_any(any_text),
})


def trail_records() -> st.SearchStrategy[Any]:
    """A CloudTrail record: the usual fields, each sometimes missing or of another shape."""
    record = st.fixed_dictionaries(
        {"eventVersion": plausible_or_any(st.sampled_from(["1.08", "1.09", "1.10"]))},
        optional={
            "eventID": plausible_or_any(st.uuids().map(str)),
            "eventTime": plausible_or_any(times),
            "eventSource": plausible_or_any(st.sampled_from(["signin.amazonaws.com", "iam.amazonaws.com",
                                                             "ec2.amazonaws.com", ""])),
            "eventName": plausible_or_any(st.sampled_from(["ConsoleLogin", "AssumeRole", "CreateUser", "x"])),
            "awsRegion": plausible_or_any(st.sampled_from(["us-east-1", "eu-west-1", ""])),
            "sourceIPAddress": plausible_or_any(st.sampled_from(["198.51.100.20", "2001:db8::1", "8.8.8.8",
                                                                 "ec2.amazonaws.com", "AWS Internal", ""])),
            "userAgent": plausible_or_any(any_text),
            "userIdentity": plausible_or_any(identities),
            "requestParameters": json_values(),
            "responseElements": json_values(),
            "additionalEventData": json_values(),
            "errorCode": plausible_or_any(any_text),
            "errorMessage": plausible_or_any(any_text),
            "recipientAccountId": plausible_or_any(st.sampled_from(ACCOUNTS)),
            "readOnly": plausible_or_any(st.booleans()),
            "managementEvent": json_values(2),
            "eventType": plausible_or_any(st.sampled_from(["AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"])),
            "eventCategory": plausible_or_any(st.sampled_from(["Management", "Data", "Insight"])),
            "resources": plausible_or_any(st.lists(st.fixed_dictionaries(
                {}, optional={"ARN": any_text, "accountId": any_text, "type": any_text}), max_size=3)),
            "tlsDetails": plausible_or_any(st.fixed_dictionaries({}, optional={
                "tlsVersion": any_text, "cipherSuite": any_text, "clientProvidedHostHeader": any_text})),
            "insightDetails": json_values(),
            "serviceEventDetails": json_values(),
            "vpcEndpointId": json_values(2),
        },
    )
    return st.one_of(record, record, record, json_values(6))


def trail_units(value: Any) -> int:
    """Units one parsed CloudTrail value stands for: a ``Records`` document its records (one when
    it has none), anything else one record."""
    if isinstance(value, dict) and isinstance(value.get("Records"), list):
        return len(value["Records"]) or 1
    return 1


# -- AWS Config --------------------------------------------------------------------------------

_CONFIG_SPEC = load_spec("config")
CONFIG_NOTICES = tuple(_CONFIG_SPEC["skipped_message_types"])

config_items = st.one_of(*[st.fixed_dictionaries(
    {},
    optional={
        "resourceType": plausible_or_any(st.sampled_from(["AWS::EC2::SecurityGroup", "AWS::IAM::Role",
                                                          "AWS::Config::ResourceCompliance", ""])),
        "resourceId": plausible_or_any(st.sampled_from(["sg-0123", "AROA1", "", "x" * 300])),
        "configurationItemCaptureTime": plausible_or_any(times),
        "configurationStateId": plausible_or_any(st.integers(min_value=-(2**70), max_value=2**70)),
        "configurationItemStatus": plausible_or_any(st.sampled_from(["OK", "ResourceDiscovered", "ResourceDeleted",
                                                                     "ResourceDeletedNotRecorded"])),
        "awsAccountId": plausible_or_any(st.sampled_from(ACCOUNTS)),
        "awsRegion": plausible_or_any(st.sampled_from(["us-east-1", ""])),
        "availabilityZone": plausible_or_any(st.sampled_from(["us-east-1a", "Not Applicable",
                                                              "Multiple Availability Zones"])),
        "resourceName": plausible_or_any(any_text),
        "ARN": plausible_or_any(any_text),
        "configuration": json_values(),
        "supplementaryConfiguration": json_values(),
        "tags": plausible_or_any(st.dictionaries(any_text, any_text, max_size=3)),
        "relationships": json_values(),
        "configurationItemVersion": json_values(2),
    },
)] * 3, json_values(5))


CONFIG_FILES = ("history", "snapshot")
CONFIG_NOTIFICATIONS = ("change", "oversized", "compliance", "notice", "other")


@st.composite
def config_documents(draw: st.DrawFn, kinds: tuple[str, ...] = CONFIG_FILES + CONFIG_NOTIFICATIONS
                     ) -> tuple[Any, int]:
    """One Config document (history or snapshot file, a notification, a delivery notice) in its
    envelope (none, SNS, EventBridge), and the units it holds."""
    kind = draw(st.sampled_from(kinds))
    units = 1
    doc: Any
    if kind in ("history", "snapshot"):
        items = draw(st.lists(config_items, max_size=8))
        doc = {"fileVersion": "1.0", "configurationItems": items}
        if kind == "snapshot":
            doc["configSnapshotId"] = draw(st.uuids().map(str))
        units = len(items) or 1
    elif kind == "change":
        doc = {"messageType": "ConfigurationItemChangeNotification", "configurationItem": draw(config_items),
               "configurationItemDiff": draw(json_values()), "notificationCreationTime": draw(times)}
    elif kind == "oversized":
        doc = {"messageType": "OversizedConfigurationItemChangeNotification",
               "configurationItemSummary": draw(json_values()),
               "s3DeliverySummary": draw(plausible_or_any(st.fixed_dictionaries({}, optional={
                   "s3BucketLocation": plausible_or_any(st.sampled_from(["bucket/key.json", "bucket/oversized",
                                                                         "bucket/missing", "no-slash", ""]))})))}
    elif kind == "compliance":
        doc = {"messageType": "ComplianceChangeNotification",
               "configRuleName": draw(plausible_or_any(any_text)), "resourceType": draw(plausible_or_any(any_text)),
               "resourceId": draw(plausible_or_any(any_text)), "awsAccountId": draw(plausible_or_any(any_text)),
               "awsRegion": draw(plausible_or_any(any_text)), "notificationCreationTime": draw(times),
               "newEvaluationResult": draw(json_values()), "oldEvaluationResult": draw(json_values())}
    elif kind == "notice":
        doc = {"messageType": draw(st.sampled_from(CONFIG_NOTICES)), "s3ObjectKey": draw(any_text)}
    else:
        doc = draw(json_values(8))
    # History and snapshot files are S3 objects; SNS and EventBridge carry notifications.
    envelope = "none" if kind in CONFIG_FILES else draw(st.sampled_from(["none", "none", "sns",
                                                                                   "eventbridge"]))
    if envelope == "sns":
        message = json.dumps(doc) if draw(st.integers(0, 5)) else draw(any_text)
        doc = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:1:config",
               "Message": message}
    elif envelope == "eventbridge":
        doc = {"version": "0", "detail-type": "Config Configuration Item Change", "source": "aws.config",
               "detail": doc}
    return doc, units


# -- SQS message bodies and CloudWatch Logs payloads ---------------------------------------------

def subscription_document(group: str, messages: list[str], kind: str = "DATA_MESSAGE") -> dict[str, Any]:
    """A CloudWatch Logs subscription payload's JSON document."""
    return {"messageType": kind, "owner": "123456789012", "logGroup": group, "logStream": "eni-1-all",
            "subscriptionFilters": ["to-siem"],
            "logEvents": [{"id": f"{37 * 10**54 + n}", "timestamp": 1714564800000 + n, "message": m}
                          for n, m in enumerate(messages)]}


def pack_subscription(doc: Any) -> str:
    """The base64 of the gzip of the JSON, as Lambda, Kinesis and SQS carry it."""
    raw = json.dumps(doc).encode("utf-8", "surrogatepass")
    return base64.b64encode(gzip.compress(raw)).decode()


s3_keys = st.one_of(
    st.sampled_from(["AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/x.log.gz",
                     "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/x.json.gz",
                     "AWSLogs/123456789012/Config/us-east-1/2024/5/1/ConfigHistory/x.json.gz",
                     "a+b%2Fc%ZZ", "%ED%A0%80", "%00", "", "/"]),
    any_text,
)

s3_notifications = st.builds(
    lambda records: {"Records": records},
    st.lists(plausible_or_any(st.fixed_dictionaries(
        {"s3": plausible_or_any(st.fixed_dictionaries({
            "bucket": plausible_or_any(st.fixed_dictionaries({"name": plausible_or_any(st.just("logs"))})),
            "object": plausible_or_any(st.fixed_dictionaries(
                {"key": plausible_or_any(s3_keys)},
                optional={"size": json_values(1), "eTag": json_values(1)})),
        }))},
        optional={"eventName": plausible_or_any(st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete",
                                                                 "s3:ObjectCreated:Copy"])),
                  "eventSource": st.just("aws:s3")},
    )), max_size=3),
)

eventbridge_events = st.fixed_dictionaries({
    "version": st.just("0"),
    "detail-type": plausible_or_any(st.sampled_from(["Object Created", "Object Deleted",
                                                     "Config Configuration Item Change"])),
    "source": plausible_or_any(st.sampled_from(["aws.s3", "aws.config"])),
    "detail": plausible_or_any(st.fixed_dictionaries({}, optional={
        "bucket": plausible_or_any(st.fixed_dictionaries({"name": plausible_or_any(st.just("logs"))})),
        "object": plausible_or_any(st.fixed_dictionaries({"key": plausible_or_any(s3_keys)})),
    })),
})


@st.composite
def sqs_bodies(draw: st.DrawFn) -> str | bytes:
    """Any body a queue can hold: each shape AWS sends (some damaged), wrapped or not, and junk."""
    kind = draw(st.sampled_from(["s3", "eventbridge", "config", "logs", "test-event", "junk", "json",
                                 "bytes", "deep"]))
    doc: Any
    if kind == "s3":
        doc = draw(s3_notifications)
    elif kind == "eventbridge":
        doc = draw(eventbridge_events)
    elif kind == "config":
        doc = draw(config_documents())[0]
    elif kind == "logs":
        group = draw(st.sampled_from(["/aws/vpc/flowlogs", "cloudtrail-logs", "other"]))
        page = subscription_document(group, draw(st.lists(st.text(line_chars, max_size=60), max_size=4)),
                                     draw(st.sampled_from(["DATA_MESSAGE", "DATA_MESSAGE", "CONTROL_MESSAGE", "X"])))
        doc = {"awslogs": {"data": pack_subscription(page)}} if draw(st.booleans()) else None
        if doc is None:
            return pack_subscription(page)
    elif kind == "test-event":
        doc = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": draw(any_text)}
    elif kind == "junk":
        return draw(st.text(st.characters(), max_size=60))
    elif kind == "bytes":
        return draw(st.binary(max_size=60))
    elif kind == "deep":
        return deep_json(draw(st.sampled_from([100, 254, 255, 1000, 1023, 1024, 10_000])))
    else:
        doc = draw(json_values(10))
    if draw(st.integers(0, 3)) == 0:
        doc = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(doc)}
    return encode_json(doc, draw(json_styles)).decode("utf-8", "surrogatepass")
