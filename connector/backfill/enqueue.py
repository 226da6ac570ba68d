"""``backfill --enqueue``: the planned objects go onto an SQS queue as S3 ``ObjectCreated``
notifications, so that ``forward`` workers share the load through their usual path."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlparse

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from connector.backfill.plan import BackfillPlan, PlannedObject
from connector.errors import SourceError
from connector.sources.s3 import aws_client, aws_session

SQS_BATCH = 10


def s3_notification(bucket: str, obj: PlannedObject, region: str) -> dict[str, Any]:
    """An S3 ``ObjectCreated`` event record for an existing object, as S3 itself would send it."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "aws-siem-connector-backfill"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "aws-siem-connector-backfill",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": ""}, "arn": f"arn:aws:s3:::{bucket}"},
            # S3 URL-encodes keys in notifications (space as '+', '=' as %3D); consumers unquote_plus them.
            "object": {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "eTag": obj.etag,
                       "sequencer": uuid.uuid4().hex[:16].upper()},
        },
    }


def _queue_region(queue_url: str, fallback: str) -> str:
    host = urlparse(queue_url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    return fallback


def enqueue_plan(plan: BackfillPlan, queue_url: str, aws: Mapping[str, Any]) -> int:
    """Send one S3 notification per object (ten per SendMessageBatch call); returns how many were sent."""
    session = aws_session(aws)
    region = session.region_name or "us-east-1"
    queue_region = _queue_region(queue_url, region)
    sqs = aws_client(session, "sqs", aws) if queue_region == region else \
        aws_client(aws_session({**aws, "region": queue_region}), "sqs", aws)
    sent = 0
    objects = plan.objects
    for start in range(0, len(objects), SQS_BATCH):
        chunk = objects[start:start + SQS_BATCH]
        entries = [{"Id": str(i), "MessageBody": orjson.dumps(
            {"Records": [s3_notification(plan.scope.bucket, obj, region)]}).decode()}
            for i, obj in enumerate(chunk)]
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot send to {queue_url} after {sent} objects: {exc}") from exc
        failed = response.get("Failed") or []
        if failed:
            raise SourceError(f"{queue_url} refused {len(failed)} messages after {sent} objects: "
                              f"{failed[0].get('Message', failed[0].get('Code'))}")
        sent += len(chunk)
    return sent
