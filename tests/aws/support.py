"""Helpers for the forward tests: AWS resources in moto, the service as a subprocess, its output."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.moto_server import MotoServer

BUCKET = "security-logs"
QUEUE = "connector-events"
TOPIC = "security-log-events"
REPO = Path(__file__).resolve().parents[2]
FLOW_HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
               "action log-status")


def forward_argv() -> list[str]:
    """The console command ``aws-siem-connector forward``, run by this interpreter."""
    return [sys.executable, "-m", "connector", "forward"]


@dataclass
class Aws:
    """Clients and resources of one test in moto."""

    moto: MotoServer
    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)

    def send(self, body: str) -> str:
        return str(self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"])

    def depth(self) -> tuple[int, int]:
        """(visible, in flight) messages of the queue."""
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain_test_events(self) -> int:
        """Receive and delete what is on the queue now (the S3 test events); how many there were."""
        n = 0
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                return n
            for message in messages:
                assert "s3:TestEvent" in message["Body"], message["Body"]
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                n += 1


def make_aws(moto: MotoServer, direct_prefix: str | None = None, sns_prefix: str | None = None) -> Aws:
    """A bucket and a queue; objects under ``direct_prefix`` notify the queue directly, objects under
    ``sns_prefix`` through an SNS topic the queue subscribes to without raw delivery (wrapped bodies)."""
    s3, sqs, sns = moto.client("s3"), moto.client("sqs"), moto.client("sns")
    s3.create_bucket(Bucket=BUCKET)
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    config: dict[str, Any] = {}
    if direct_prefix is not None:
        config["QueueConfigurations"] = [{
            "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": direct_prefix}]}}}]
    if sns_prefix is not None:
        topic = sns.create_topic(Name=TOPIC)["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        config["TopicConfigurations"] = [{
            "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": sns_prefix}]}}}]
    if config:
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=config)
    return Aws(moto, s3, sqs, url, arn)


@dataclass
class Forward:
    """A running ``forward`` subprocess and where it writes."""

    proc: subprocess.Popen[bytes]
    out: Path
    log: Path

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"forward did not exit in {timeout}s:\n{self.log_text()}") from None

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.proc.pid, sig)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_forward(aws: Aws, tmp: Path, *flags: str, out: Path | None = None, env: dict[str, str] | None = None,
                  name: str = "forward") -> Forward:
    """``forward`` with the file sink, talking to moto, as a subprocess of this test."""
    out = out or tmp / "out"
    log = tmp / f"{name}.log"
    argv = [*forward_argv(), "--queue-url", aws.queue_url, "--sink", "file", "--out", str(out),
            "--dlq", str(tmp / "dead-letters.ndjson"), *flags]
    with open(log, "ab") as handle:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
                                env={**os.environ, **aws.moto.env, **(env or {})})
    return Forward(proc, out, log)


def ndjson(path: Path) -> Iterator[dict[str, Any]]:
    """Documents of an NDJSON file; a line cut short by a killed writer is left out."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for line in handle:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def dead_letters(tmp: Path) -> list[dict[str, Any]]:
    return list(ndjson(tmp / "dead-letters.ndjson"))


def wait_for(check: Callable[[], bool], timeout: float, what: str, forward: Forward | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if forward is not None and forward.proc.poll() is not None:
            raise AssertionError(f"forward exited ({forward.proc.returncode}) before {what}:\n{forward.log_text()}")
        if time.monotonic() > deadline:
            detail = forward.log_text() if forward is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{detail}")
        time.sleep(0.05)


def flow_object(lines: int, seed: int = 1) -> bytes:
    """A gzipped default-format (v2) flow-log object with ``lines`` records and a header."""
    rng = random.Random(seed)
    publics = [f"{a}.{b}.{c}.{d}" for a, b, c, d in
               ((3, 5, 140, 2), (52, 94, 76, 10), (185, 220, 101, 4), (45, 33, 32, 156), (8, 8, 8, 8))]
    privates = [f"10.0.{i}.{j}" for i in range(4) for j in range(10, 20)]
    rows = [FLOW_HEADER]
    start = 1795000000
    for n in range(lines):
        src = rng.choice(publics)
        dst = rng.choice(privates)
        action = "REJECT" if n % 7 == 0 else "ACCEPT"
        rows.append(f"2 111122223333 eni-0a1b2c3d4e5f60718 {src} {dst} {40000 + n % 20000} 443 6 "
                    f"{1 + n % 9} {60 + n % 1500} {start + n // 100} {start + n // 100 + 60} {action} OK")
    return gzip.compress("\n".join(rows).encode() + b"\n", compresslevel=1)
