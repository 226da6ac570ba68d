"""HEC answers the real receiver cannot be made to give: busy storms, refused events, bad tokens,
lost acknowledgements. ``responses`` plays the server; the sink's own HTTP code runs unchanged."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from connector.errors import FatalSinkError, SinkError
from connector.sinks.base import Batch
from connector.sinks.splunk_hec import HecSink
from connector.sinks.splunk_hec_config import HecSinkConfig
from tests.faults import Reconciliation
from tests.splunk.samples import mixed_batch

URL = "https://hec.example.test:8088"
EVENT_URL = f"{URL}/services/collector/event"
ACK_URL = f"{URL}/services/collector/ack"
HEALTH_URL = f"{URL}/services/collector/health"
TOKEN = "11111111-2222-3333-4444-555555555555"

Reply = tuple[int, dict[str, str], str]


def _config(**overrides: Any) -> HecSinkConfig:
    settings: dict[str, Any] = {
        "hec_url": URL,
        "token": TOKEN,
        "batch_events": 1000,
        "concurrency": 1,
        "retry_backoff": 0.001,
        "max_retries": 8,
        "ack_poll_interval": 0.01,
    }
    settings.update(overrides)
    return HecSinkConfig.from_settings(settings, env={})


def _events(request: Any) -> list[dict[str, Any]]:
    body = request.body
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def _json(status: int, payload: dict[str, Any]) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(payload)


class FakeHec:
    """A scripted HEC: ``replies`` are used first, then success; accepted events are recorded."""

    def __init__(self, replies: list[Reply | Exception | Callable[[list[dict[str, Any]]], Reply]] | None = None):
        self.replies = list(replies or [])
        self.posts: list[list[dict[str, Any]]] = []
        self.accepted: list[dict[str, Any]] = []
        self.ack_queries: list[list[int]] = []
        self.acked: set[int] = set()
        self.next_ack = 0
        self.ack_ok: Callable[[int], bool] = lambda ack_id: True

    def on_event(self, request: Any) -> Reply:
        events = _events(request)
        self.posts.append(events)
        if self.replies:
            reply = self.replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            if callable(reply):
                reply = reply(events)
            if reply[0] == 200:
                self.accepted.extend(events)
            return reply
        self.accepted.extend(events)
        self.next_ack += 1
        return _json(200, {"text": "Success", "code": 0, "ackId": self.next_ack})

    def on_ack(self, request: Any) -> Reply:
        ids = json.loads(request.body)["acks"]
        self.ack_queries.append(ids)
        return _json(200, {"acks": {str(i): self.ack_ok(i) for i in ids}})

    def install(self, rsps: responses.RequestsMock) -> FakeHec:
        rsps.add_callback(responses.POST, EVENT_URL, callback=self.on_event)
        rsps.add_callback(responses.POST, ACK_URL, callback=self.on_ack)
        return self


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"]["event"]["id"] for e in events]


def _send(batch: Batch, **overrides: Any) -> Any:
    sink = HecSink(_config(**overrides), session=requests.Session())
    try:
        return sink.send(batch)
    finally:
        sink.close()


def _reconcile(scenario: str, batch: Batch, hec: FakeHec, delivery: Any = None) -> None:
    """What the scripted server accepted and what the sink dead-lettered, against the batch."""
    dead = [d.record["event"]["id"] for d in delivery.dead_lettered] if delivery is not None else []
    Reconciliation.of(scenario, batch.ids, _ids(hec.accepted), dead).assert_nothing_lost()


def _redeliver(batch: Batch, hec: FakeHec, **overrides: Any) -> None:
    """The source hands an unacknowledged batch out again; by then the server answers normally."""
    hec.replies.clear()
    assert _send(batch, **overrides).delivered == len(batch)


@pytest.mark.faults
def test_503_burst_then_success_delivers_everything_once(rsps: responses.RequestsMock) -> None:
    busy = _json(503, {"text": "Server is busy", "code": 9})
    hec = FakeHec([busy, busy, busy, _json(429, {"text": "Too many"}), busy]).install(rsps)
    batch = mixed_batch(100, 50, 20)
    delivery = _send(batch, batch_events=60, concurrency=1)
    assert delivery.delivered == 170
    assert delivery.dead_lettered == []
    assert len(hec.posts) == 5 + 3  # five refusals of the first request, then three requests
    assert sorted(_ids(hec.accepted)) == sorted(d["event"]["id"] for d in batch.docs)
    _reconcile("hec-503-429-burst", batch, hec, delivery)


@pytest.mark.faults
def test_connection_errors_and_5xx_are_retried_with_concurrency(rsps: responses.RequestsMock) -> None:
    hec = FakeHec([
        requests.ConnectionError("connection reset"),
        _json(500, {"text": "Internal server error", "code": 8}),
        _json(502, {}),
    ]).install(rsps)
    batch = mixed_batch(200, 100, 40)
    delivery = _send(batch, batch_events=25, concurrency=4)
    assert delivery.delivered == 340
    assert sorted(_ids(hec.accepted)) == sorted(d["event"]["id"] for d in batch.docs)
    _reconcile("hec-connection-errors-and-5xx", batch, hec, delivery)


@pytest.mark.faults
def test_retries_are_bounded_and_end_in_sink_error(rsps: responses.RequestsMock) -> None:
    hec = FakeHec([_json(503, {"text": "Server is busy", "code": 9})] * 10).install(rsps)
    batch = mixed_batch(5, 0, 0)
    with pytest.raises(SinkError) as err:
        _send(batch, max_retries=3)
    assert not isinstance(err.value, FatalSinkError)
    assert len(hec.posts) == 4
    assert "Server is busy" in str(err.value)
    assert hec.accepted == []
    _redeliver(batch, hec)
    _reconcile("hec-bounded-retries-then-redelivery", batch, hec)


@pytest.mark.faults
def test_retries_bounded_by_total_time(rsps: responses.RequestsMock) -> None:
    hec = FakeHec([_json(503, {"text": "Server is busy", "code": 9})] * 50).install(rsps)
    batch = mixed_batch(5, 0, 0)
    with pytest.raises(SinkError):
        _send(batch, max_retries=40, retry_backoff=0.05, retry_max_seconds=0.3)
    assert 2 <= len(hec.posts) < 40
    _redeliver(batch, hec)
    _reconcile("hec-retry-time-bound-then-redelivery", batch, hec)


@pytest.mark.faults
def test_invalid_event_number_dead_letters_that_event_and_resends_the_rest(
    rsps: responses.RequestsMock,
) -> None:
    refusal = _json(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": 3})
    hec = FakeHec([refusal]).install(rsps)
    batch = mixed_batch(10, 0, 0)
    delivery = _send(batch)
    assert delivery.delivered == 9
    assert len(delivery.dead_lettered) == 1
    dead = delivery.dead_lettered[0]
    assert dead.record == batch.docs[3]
    assert dead.origin == batch.origins[3]
    assert "Invalid data format" in dead.reason and "code 6" in dead.reason
    assert len(hec.posts) == 2
    expected = [d["event"]["id"] for i, d in enumerate(batch.docs) if i != 3]
    assert _ids(hec.posts[1]) == expected
    assert _ids(hec.accepted) == expected
    _reconcile("hec-refused-event-by-number", batch, hec, delivery)


@pytest.mark.faults
def test_refused_event_without_number_is_isolated_by_halving(rsps: responses.RequestsMock) -> None:
    batch = mixed_batch(37, 0, 0)
    poison = {batch.docs[5]["event"]["id"], batch.docs[30]["event"]["id"]}

    def judge(events: list[dict[str, Any]]) -> Reply:
        if poison & set(_ids(events)):
            return _json(400, {"text": "Invalid data format", "code": 6})
        return _json(200, {"text": "Success", "code": 0})

    hec = FakeHec([judge] * 200).install(rsps)
    delivery = _send(batch, concurrency=2, batch_events=20)
    assert delivery.delivered == 35
    assert {d.record["event"]["id"] for d in delivery.dead_lettered} == poison
    assert sorted(_ids(hec.accepted)) == sorted(d["event"]["id"] for d in batch.docs if d["event"]["id"] not in poison)
    _reconcile("hec-refused-events-isolated-by-halving", batch, hec, delivery)


@pytest.mark.faults
@pytest.mark.parametrize(
    ("status", "payload", "meaning"),
    [
        (403, {"text": "Invalid token", "code": 4}, "invalid"),
        (403, {"text": "Token disabled", "code": 1}, "disabled"),
        (401, {"text": "Token is required", "code": 2}, "no HEC token"),
        (400, {"text": "Incorrect index", "code": 7, "invalid-event-number": 0}, "index"),
    ],
)
def test_refused_batch_is_fatal_and_acknowledges_nothing(
    rsps: responses.RequestsMock, status: int, payload: dict[str, Any], meaning: str
) -> None:
    hec = FakeHec([_json(status, payload)] * 50).install(rsps)
    batch = mixed_batch(40, 20, 0)
    sink = HecSink(_config(batch_events=10, concurrency=3), session=requests.Session())
    try:
        with pytest.raises(FatalSinkError) as err:
            sink.send(batch)
    finally:
        sink.close()
    message = str(err.value)
    assert meaning in message and payload["text"] in message
    assert TOKEN not in message and TOKEN not in repr(err.value)
    assert hec.accepted == []
    # No blind retries: at most one request per worker was in flight when the refusal came.
    assert len(hec.posts) <= 3
    # Nothing was acknowledged, so once the setting is fixed the same records come again.
    _redeliver(batch, hec, batch_events=10, concurrency=3)
    _reconcile(f"hec-refused-batch-{payload['text'].lower().replace(' ', '-')}-then-redelivery", batch, hec)


@pytest.mark.faults
def test_ack_timeout_resends_the_batch(rsps: responses.RequestsMock) -> None:
    hec = FakeHec().install(rsps)
    hec.ack_ok = lambda ack_id: ack_id != 1  # the first request's ack never comes
    batch = mixed_batch(20, 10, 0)
    delivery = _send(batch, ack=True, ack_timeout=0.2)
    assert delivery.delivered == 30
    assert len(hec.posts) == 2
    assert hec.posts[0] == hec.posts[1]
    assert all(1 in q for q in hec.ack_queries[:-1])
    assert hec.ack_queries[-1] == [2]
    _reconcile("hec-indexer-ack-timeout", batch, hec, delivery)


@pytest.mark.faults
def test_ack_never_arrives_ends_in_sink_error(rsps: responses.RequestsMock) -> None:
    hec = FakeHec().install(rsps)
    hec.ack_ok = lambda ack_id: False
    batch = mixed_batch(5, 0, 0)
    with pytest.raises(SinkError) as err:
        _send(batch, ack=True, ack_timeout=0.05, max_retries=2)
    assert "did not acknowledge" in str(err.value)
    assert len(hec.posts) == 3
    # The server took every post without acknowledging: each record arrived three times.
    _reconcile("hec-indexer-ack-never-arrives", batch, hec)


@pytest.mark.faults
def test_ack_on_but_server_gives_no_ack_id_is_fatal(rsps: responses.RequestsMock) -> None:
    hec = FakeHec([_json(200, {"text": "Success", "code": 0})]).install(rsps)
    batch = mixed_batch(3, 0, 0)
    with pytest.raises(FatalSinkError, match="no ackId"):
        _send(batch, ack=True)
    _reconcile("hec-ack-without-ack-id", batch, hec)


def test_batching_by_event_count(rsps: responses.RequestsMock) -> None:
    hec = FakeHec().install(rsps)
    assert _send(mixed_batch(95, 0, 0), batch_events=10).delivered == 95
    assert [len(p) for p in hec.posts] == [10] * 9 + [5]


def test_batching_by_uncompressed_bytes(rsps: responses.RequestsMock) -> None:
    sizes: list[int] = []

    def measure(request: Any) -> Reply:
        sizes.append(len(gzip.decompress(request.body)) + 1)  # + the newline not sent after the last
        return _json(200, {"text": "Success", "code": 0})

    rsps.add_callback(responses.POST, EVENT_URL, callback=measure)
    assert _send(mixed_batch(95, 0, 0), batch_bytes=20_000).delivered == 95
    assert len(sizes) >= 4
    assert max(sizes) <= 20_000
    assert min(sizes[:-1]) > 20_000 - 2_000  # full requests, cut only when the next event would not fit


def test_request_carries_channel_gzip_and_token_header(rsps: responses.RequestsMock) -> None:
    seen: list[Any] = []

    def capture(request: Any) -> Reply:
        seen.append(request)
        return _json(200, {"text": "Success", "code": 0})

    rsps.add_callback(responses.POST, EVENT_URL, callback=capture)
    sink = HecSink(_config(), session=requests.Session())
    try:
        sink.send(mixed_batch(3, 0, 0))
    finally:
        sink.close()
    (request,) = seen
    assert request.headers["Authorization"] == f"Splunk {TOKEN}"
    assert request.headers["X-Splunk-Request-Channel"] == sink.channel
    assert request.headers["Content-Encoding"] == "gzip"
    # Three events, each on its own newline-terminated line.
    body = gzip.decompress(request.body)
    assert body.count(b"\n") == 3 and body.endswith(b"}\n")
    assert [json.loads(line)["sourcetype"] for line in body.splitlines()] == ["aws:connector:vpcflow"] * 3


def test_health_check_reports_status_and_token(rsps: responses.RequestsMock) -> None:
    rsps.get(HEALTH_URL, json={"text": "HEC is healthy", "code": 17})
    rsps.post(EVENT_URL, status=400, json={"text": "No data", "code": 5})
    sink = HecSink(_config(), session=requests.Session())
    assert "healthy" in sink.check_health() and "token accepted" in sink.check_health()


@pytest.mark.faults
def test_health_check_bad_token_is_fatal(rsps: responses.RequestsMock) -> None:
    rsps.get(HEALTH_URL, json={"text": "HEC is healthy", "code": 17})
    rsps.post(EVENT_URL, status=403, json={"text": "Invalid token", "code": 4})
    sink = HecSink(_config(), session=requests.Session())
    with pytest.raises(FatalSinkError, match="Invalid token") as err:
        sink.check_health()
    assert TOKEN not in str(err.value)


@pytest.mark.faults
def test_health_check_unhealthy_and_unreachable(rsps: responses.RequestsMock) -> None:
    rsps.get(HEALTH_URL, status=503, json={"text": "HEC is unhealthy, queues are full", "code": 18})
    sink = HecSink(_config(), session=requests.Session())
    with pytest.raises(SinkError, match="queues are full"):
        sink.check_health()
    rsps.replace(responses.GET, HEALTH_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(SinkError, match="unreachable"):
        sink.check_health()


@pytest.mark.faults
def test_token_never_logged_during_retries(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    FakeHec([_json(503, {"text": "Server is busy", "code": 9})] * 3).install(rsps)
    with caplog.at_level(logging.DEBUG):
        _send(mixed_batch(5, 0, 0))
    assert caplog.records, "retries should be logged"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)


def test_tls_verification_on_by_default_and_ca_bundle_used(
    rsps: responses.RequestsMock, tmp_path: Any
) -> None:
    seen: list[Any] = []

    def capture(request: Any) -> Reply:
        seen.append(request.req_kwargs["verify"])
        return _json(200, {"text": "Success", "code": 0})

    rsps.add_callback(responses.POST, EVENT_URL, callback=capture)
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    _send(mixed_batch(1, 0, 0))
    _send(mixed_batch(1, 0, 0), ca_bundle=str(ca))
    _send(mixed_batch(1, 0, 0), verify_tls=False)
    # True may arrive as the environment's CA bundle path (REQUESTS_CA_BUNDLE): still verifying.
    assert seen[0] is True or (isinstance(seen[0], str) and seen[0] != str(ca))
    assert seen[1:] == [str(ca), False]
