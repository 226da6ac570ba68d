"""An answer whose connection breaks while it is read is a transient failure like a reset: the
request (or the acknowledgement poll) is tried again, never the end of the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from connector.sinks.splunk_hec import HecSink
from connector.sinks.splunk_hec_config import HecSinkConfig
from tests.splunk.samples import mixed_batch

URL = "https://hec.example.test:8088"
EVENT_URL = f"{URL}/services/collector/event"
ACK_URL = f"{URL}/services/collector/ack"
BROKEN = requests.exceptions.ChunkedEncodingError(
    "('Connection broken: IncompleteRead(13 bytes read, 29 more expected)')")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _sink(**overrides: Any) -> HecSink:
    settings: dict[str, Any] = {"hec_url": URL, "token": "t0ken", "concurrency": 1, "retry_backoff": 0.001,
                                "max_retries": 4, "ack_poll_interval": 0.01, **overrides}
    return HecSink(HecSinkConfig.from_settings(settings, env={}), session=requests.Session())


def test_event_answer_broken_while_read_is_retried(rsps: responses.RequestsMock) -> None:
    replies: list[Any] = [BROKEN, BROKEN]
    posts = 0

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        nonlocal posts
        posts += 1
        if replies:
            raise replies.pop(0)
        return 200, {}, json.dumps({"text": "Success", "code": 0})

    rsps.add_callback(responses.POST, EVENT_URL, callback=answer)
    sink = _sink()
    try:
        delivery = sink.send(mixed_batch(5, 3, 2))
    finally:
        sink.close()
    assert (delivery.delivered, delivery.dead_lettered, posts) == (10, [], 3)
    assert sink.stats.retries == 2


def test_ack_answer_broken_while_read_is_polled_again(rsps: responses.RequestsMock) -> None:
    polls: list[Any] = [BROKEN]

    def ack(request: Any) -> tuple[int, dict[str, str], str]:
        if polls:
            raise polls.pop(0)
        ids = json.loads(request.body)["acks"]
        return 200, {}, json.dumps({"acks": {str(i): True for i in ids}})

    rsps.add(responses.POST, EVENT_URL, json={"text": "Success", "code": 0, "ackId": 1})
    rsps.add_callback(responses.POST, ACK_URL, callback=ack)
    sink = _sink(ack=True)
    try:
        delivery = sink.send(mixed_batch(4, 0, 0))
    finally:
        sink.close()
    assert (delivery.delivered, delivery.dead_lettered, polls) == (4, [], [])
