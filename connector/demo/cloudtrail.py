"""CloudTrail's delivery of the demo day: a log file per account, region and five minutes, one
Insights file for dev and one digest file, which a reader must skip."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

from connector.demo.actors import DEV, LOG_BUCKET, PROD, REGION, TRAIL_NAME, UA_BOTO
from connector.demo.aws_formats import compact_json, epoch_seconds, gzip_bytes, iso_seconds, since_midnight
from connector.demo.cloudtrail_findings import record_findings
from connector.demo.cloudtrail_incidents import record_incidents
from connector.demo.cloudtrail_lookalikes import record_load_balancer_as_root, record_lookalikes
from connector.demo.cloudtrail_records import TrailRecorder
from connector.demo.cloudtrail_routine import record_routine
from connector.demo.labels import LabelRecorder
from connector.demo.random_ids import random_alnum, random_hex, random_uuid
from connector.demo.resources import Estate


class CloudTrail(TrailRecorder):
    """Management events for both accounts, with the day's incidents woven into routine activity."""

    def __init__(self, rng: random.Random, estate: Estate, day: dt.date, day0: int, labels: LabelRecorder) -> None:
        super().__init__(rng, estate, day, day0, labels)
        self.objects: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.insight_counts: dict[str, int] = {}
        self.skipped: list[str] = []

    def generate(self) -> None:
        """Record the day and fill `objects` with the files CloudTrail delivers for it."""
        stop, start = since_midnight("02:13:07"), since_midnight("02:58:41")
        record_routine(self, stop, start)
        record_incidents(self, stop, start)
        record_lookalikes(self)
        record_findings(self, stop, start)
        record_load_balancer_as_root(self)
        self._write_trail_files()
        self._write_insights()
        self._write_digest()

    def _write_trail_files(self) -> None:
        groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for account, region, rec in self.events:
            t = epoch_seconds(rec["eventTime"])
            groups.setdefault((account, region, (t - self.day0) // 300 * 300), []).append(rec)
        self.files_by_account: dict[tuple[str, str], list[tuple[str, bytes, list[dict[str, Any]]]]] = {}
        for (account, region, w), recs in sorted(groups.items()):
            recs.sort(key=lambda x: x["eventTime"])
            stamp = dt.datetime.fromtimestamp(self.day0 + w, dt.UTC).strftime("%Y%m%dT%H%MZ")
            key = (
                f"AWSLogs/{account}/CloudTrail/{region}/{self.day:%Y/%m/%d}/"
                f"{account}_CloudTrail_{region}_{stamp}_{random_alnum(self.rng, 16)}.json.gz"
            )
            raw = compact_json({"Records": recs})
            self.objects[key] = gzip_bytes(raw)
            self.counts[key] = len(recs)
            self.files_by_account.setdefault((account, region), []).append((key, raw, recs))

    def _write_insights(self) -> None:
        d0 = self.day0
        shared = random_uuid(self.rng)
        dev_ci_arn = self.dev_ci.identity["sessionContext"]["sessionIssuer"]["arn"]
        records = []
        for state, at in (("Start", "10:00:00"), ("End", "10:11:00")):
            stats: dict[str, Any] = {"baseline": {"average": 0.0123}, "insight": {"average": 3.8182}}
            stats["insightDuration"] = 11
            if state == "End":
                stats["baselineDuration"] = 10079
            records.append(
                {
                    "eventVersion": "1.08",
                    "eventTime": iso_seconds(d0 + since_midnight(at)),
                    "awsRegion": REGION,
                    "eventID": random_uuid(self.rng),
                    "eventType": "AwsCloudTrailInsight",
                    "recipientAccountId": DEV,
                    "sharedEventID": shared,
                    "insightDetails": {
                        "state": state,
                        "eventSource": "ec2.amazonaws.com",
                        "eventName": "RunInstances",
                        "insightType": "ApiCallErrorRateInsight",
                        "errorCode": "Client.UnauthorizedOperation",
                        "insightContext": {
                            "statistics": stats,
                            "attributions": [
                                {
                                    "attribute": "userIdentityArn",
                                    "insight": [{"value": dev_ci_arn, "average": 3.8182}],
                                    "baseline": [{"value": dev_ci_arn, "average": 0.0123}],
                                },
                                {
                                    "attribute": "userAgent",
                                    "insight": [{"value": UA_BOTO, "average": 3.8182}],
                                    "baseline": [{"value": UA_BOTO, "average": 0.0123}],
                                },
                                {
                                    "attribute": "errorCode",
                                    "insight": [{"value": "Client.UnauthorizedOperation", "average": 3.8182}],
                                    "baseline": [{"value": "Client.UnauthorizedOperation", "average": 0.0123}],
                                },
                            ],
                        },
                    },
                    "eventCategory": "Insight",
                }
            )
        key = (
            f"AWSLogs/{DEV}/CloudTrail-Insight/{REGION}/{self.day:%Y/%m/%d}/"
            f"{DEV}_CloudTrail-Insight_{REGION}_{self.day:%Y%m%d}T1025Z_{random_alnum(self.rng, 16)}.json.gz"
        )
        self.objects[key] = gzip_bytes(compact_json({"Records": records}))
        self.insight_counts[key] = len(records)

    def _write_digest(self) -> None:
        """An hourly digest for prod us-east-1 covering 02:00-03:00, which the reader must skip."""
        begin, end = self.day0 + 2 * 3600, self.day0 + 3 * 3600
        files = [
            (k, raw, recs)
            for k, raw, recs in self.files_by_account[(PROD, REGION)]
            if begin <= epoch_seconds(recs[0]["eventTime"]) < end
        ]
        stamp = dt.datetime.fromtimestamp(end, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        prefix = f"AWSLogs/{PROD}/CloudTrail-Digest/{REGION}/{self.day:%Y/%m/%d}/"
        key = f"{prefix}{PROD}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{stamp}.json.gz"
        prev = dt.datetime.fromtimestamp(begin, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        all_recs = [rec for _, _, recs in files for rec in recs]
        digest = {
            "awsAccountId": PROD,
            "digestStartTime": iso_seconds(begin),
            "digestEndTime": iso_seconds(end),
            "digestS3Bucket": LOG_BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": random_hex(self.rng, 32),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": max(x["eventTime"] for x in all_recs),
            "oldestEventTime": min(x["eventTime"] for x in all_recs),
            "previousDigestS3Bucket": LOG_BUCKET,
            "previousDigestS3Object": (
                f"{prefix}{PROD}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{prev}.json.gz"
            ),
            "previousDigestHashValue": random_hex(self.rng, 64),
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": random_hex(self.rng, 512),
            "logFiles": [
                {
                    "s3Bucket": LOG_BUCKET,
                    "s3Object": k,
                    "hashValue": hashlib.sha256(raw).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": recs[-1]["eventTime"],
                    "oldestEventTime": recs[0]["eventTime"],
                }
                for k, raw, recs in files
            ],
        }
        self.objects[key] = gzip_bytes(compact_json(digest))
        self.skipped.append(key)
