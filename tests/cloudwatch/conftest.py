"""Fixtures of the CloudWatch Logs and Lambda tests: one moto server per session, reached over HTTP."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto_server import MotoServer, moto_server

EVENTS = Path(__file__).parent / "events"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto in server mode; a test that needs it fails if it cannot start."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoServer:
    """A clean moto and an environment in which boto3 (inside the connector too) talks to it."""
    moto.reset()
    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto


def flow_line(n: int, start: int = 1714564800, action: str = "ACCEPT") -> str:
    """A default-format (version 2) flow-log record, distinct for each ``n``."""
    return (f"2 {ACCOUNT} eni-0a1b2c3d4e5f60001 10.0.1.{n % 250 + 1} 198.51.100.{n % 250 + 1} "
            f"{40000 + n} 443 6 10 8400 {start} {start + 60} {action} OK")


def trail_line(event_id: str, name: str = "ConsoleLogin") -> str:
    """One CloudTrail record as CloudTrail writes it to CloudWatch Logs (a JSON line)."""
    return json.dumps({
        "eventVersion": "1.08", "eventID": event_id, "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "signin.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.20", "userAgent": "Mozilla/5.0", "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": "alice",
                         "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "responseElements": {"ConsoleLogin": "Success"}, "eventType": "AwsConsoleSignIn",
    })


def subscription_payload(group: str, stream: str, events: list[tuple[str, str]],
                         message_type: str = "DATA_MESSAGE") -> bytes:
    """The gzip bytes CloudWatch Logs sends to a subscription (Lambda, Kinesis, Firehose)."""
    doc: dict[str, Any] = {
        "messageType": message_type, "owner": ACCOUNT, "logGroup": group, "logStream": stream,
        "subscriptionFilters": ["to-siem"],
        "logEvents": [{"id": event_id, "timestamp": 1714564800000 + i, "message": message}
                      for i, (event_id, message) in enumerate(events)],
    }
    return gzip.compress(json.dumps(doc).encode())


def b64(data: bytes) -> str:
    """Base64 text, as Lambda and Kinesis carry payloads."""
    return base64.b64encode(data).decode()


def event_id(n: int) -> str:
    """A CloudWatch-style 56-digit event id."""
    return str(37_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + n)


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    """Documents a file sink wrote (none when the file does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
