"""Visibility of received SQS messages: renewed while a message is in work, so no other consumer
takes it, and given up at once to hand a message back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from connector.forward.worker import MessageResult

# The whole service logs under one name, whichever of its modules speaks.
log = logging.getLogger("connector.forward")

SQS_MAX_BATCH = 10


@dataclass(slots=True)
class InFlight:
    """A received message not yet deleted or released; ``future`` is its work once submitted."""

    queue_url: str
    message_id: str
    receipt: str
    future: Future[MessageResult] | None = None


def _batches(entries: Sequence[InFlight]) -> Iterator[tuple[str, list[InFlight]]]:
    """The entries grouped by queue, in chunks of at most one SQS batch."""
    by_queue: dict[str, list[InFlight]] = {}
    for entry in entries:
        by_queue.setdefault(entry.queue_url, []).append(entry)
    for queue_url, mine in by_queue.items():
        for start in range(0, len(mine), SQS_MAX_BATCH):
            yield queue_url, mine[start : start + SQS_MAX_BATCH]


def _change_visibility(sqs: Any, queue_url: str, chunk: Sequence[InFlight], seconds: int) -> Any:
    return sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
        {"Id": str(i), "ReceiptHandle": e.receipt, "VisibilityTimeout": seconds} for i, e in enumerate(chunk)])


def keep_hidden(sqs: Any, in_flight: Callable[[], list[InFlight]], timeout: int) -> None:
    """Every third of ``timeout``, hide every in-flight message for ``timeout`` more seconds; never returns."""
    interval = max(timeout / 3, 0.5)
    while True:
        time.sleep(interval)
        for queue_url, chunk in _batches(in_flight()):
            try:
                answer = _change_visibility(sqs, queue_url, chunk, timeout)
            except (BotoCoreError, ClientError) as exc:
                log.warning("heartbeat for %d messages failed: %s", len(chunk), exc)
                continue
            for failed in answer.get("Failed", []):
                log.warning("heartbeat for message %s failed: %s", chunk[int(failed["Id"])].message_id,
                            failed.get("Message") or failed.get("Code"))


def release(sqs: Any, entries: Sequence[InFlight], why: str) -> None:
    """Make messages visible again at once, for another worker to take."""
    for queue_url, chunk in _batches(entries):
        try:
            _change_visibility(sqs, queue_url, chunk, 0)
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not release %d messages (%s): %s", len(chunk), why, exc)
    for entry in entries:
        log.info("message %s released (%s)", entry.message_id, why)
