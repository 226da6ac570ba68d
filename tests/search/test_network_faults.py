"""Network faults between the connector and real sinks, made by a real TCP fault proxy (Toxiproxy).

Each scenario puts a proxy in front of a real Elasticsearch, OpenSearch or HEC receiver, breaks the
connection in one way (sink unreachable, connection closed mid-body, slow and narrow link, answers
that never arrive, a sink slower than the SQS visibility timeout), and ends in an exact
reconciliation: the source records against the unique ``event.id`` values read back from the sink
and the dead letters. Every scenario must lose nothing.

The outage of the backfill scenario lasts ``OUTAGE_S`` seconds; ``AWS_SIEM_CONNECTOR_LONG_FAULTS=1``
makes it 30 seconds.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector.config import load_config
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sinks.base import Batch, Delivery
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.opensearch import OpenSearchSink
from connector.sinks.search_bulk import SearchBulkSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.splunk_hec import HecSink
from connector.sinks.splunk_hec_config import HecSinkConfig
from connector.sources.local import local_units
from tests.aws.support import Aws, Forward, forward_argv, make_aws, wait_for
from tests.conftest import Report
from tests.faults import Reconciliation, dead_letter_ids
from tests.search.ecs_docs import dataset_batch
from tests.servers.hec_receiver import HecReceiver
from tests.servers.hec_receiver import ensure_built as ensure_hec_built
from tests.servers.moto_server import MotoServer
from tests.servers.search_cluster import SearchCluster, http_json
from tests.servers.toxiproxy import ProxyLink, Toxiproxy
from tests.splunk.samples import mixed_batch

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROOT = Path(__file__).resolve().parents[2]
LONG_FAULTS = os.environ.get("AWS_SIEM_CONNECTOR_LONG_FAULTS", "") == "1"
# How long the sink stays unreachable in the middle of the backfill.
OUTAGE_S = 30.0 if LONG_FAULTS else 8.0
BACKFILL_RECORDS = 3000
# Plain indices of their own (no templates): the clusters are shared with the template tests,
# whose first deploy must find none installed.
INDEX_PREFIX = "netfaults"
# How long a fault that heals by itself (connection closed mid-body, answers lost) stays in place.
FAULT_WINDOW_S = 2.5
RESPONSE_LATENCY_MS = 2000
BANDWIDTH_KB_S = 256
SECTION = "network fault scenarios"
LinkTo = Callable[[str], ProxyLink]
FLOW_HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
               "start end action log-status")


# -- reconciliation ------------------------------------------------------------------------------


def reconcile(scenario: str, source_ids: Sequence[str], received_ids: Sequence[str],
              dead_ids: Collection[str], report: Report) -> Reconciliation:
    """Reconcile by ``event.id``; show the line in the output and the run's summary; fail on a lost
    record or on an id that no source record has."""
    assert len(set(source_ids)) == len(source_ids), "the source itself repeats an event.id"
    unexpected = set(received_ids) - set(source_ids)
    assert not unexpected, f"{len(unexpected)} ids in the sink that no source record has"
    result = Reconciliation.of(scenario, source_ids, received_ids, dead_ids)
    report.add(SECTION, result.line())
    result.assert_nothing_lost()
    return result


# -- servers and proxies -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def toxiproxy() -> Iterator[Toxiproxy]:
    """One Toxiproxy server on 127.0.0.1 for the session; built on first use, stopped by its PID."""
    with Toxiproxy() as server:
        yield server


@pytest.fixture
def hec_receiver() -> Iterator[HecReceiver]:
    """A fresh HEC receiver (token checked, indexer acknowledgement on), stopped by its PID."""
    ensure_hec_built()
    with HecReceiver(ack=True) as receiver:
        yield receiver


@pytest.fixture
def link_to(toxiproxy: Toxiproxy) -> Iterator[LinkTo]:
    """Makes proxies in front of servers; each is removed when the test ends."""
    made: list[ProxyLink] = []

    def make(url: str) -> ProxyLink:
        link = toxiproxy.proxy(url)
        made.append(link)
        return link

    yield make
    for link in made:
        link.delete()


def _cluster(request: pytest.FixtureRequest, kind: str) -> SearchCluster:
    cluster: SearchCluster = request.getfixturevalue("es_cluster" if kind == "elasticsearch" else "os_cluster")
    return cluster


# -- search sinks --------------------------------------------------------------------------------


def _search_config(kind: str, url: str, namespace: str, **settings: Any) -> SearchSinkConfig:
    return SearchSinkConfig.from_settings(
        {"url": url, "data_streams": False, "index_prefix": INDEX_PREFIX, "namespace": namespace, **settings},
        {}, kind)


def _search_sink(config: SearchSinkConfig) -> SearchBulkSink:
    if config.kind == "elasticsearch":
        return ElasticsearchSink(config)
    return OpenSearchSink(config)


def _fresh_indices(cluster: SearchCluster, namespace: str) -> None:
    """Empty indices for the scenario, ready before the first request (none is created mid-fault)."""
    http_json("DELETE", f"{cluster.url}/{INDEX_PREFIX}.*-{namespace}")
    for dataset in ("vpcflow", "cloudtrail"):
        index = f"{INDEX_PREFIX}.{dataset}-{namespace}"
        created = http_json("PUT", f"{cluster.url}/{index}", {"settings": {"number_of_replicas": 0}})
        assert isinstance(created, dict) and created.get("acknowledged"), created
        health = http_json("GET", f"{cluster.url}/_cluster/health/{index}?wait_for_status=green&timeout=30s")
        assert isinstance(health, dict) and health.get("status") == "green", health


def _count(cluster: SearchCluster, namespace: str) -> int:
    pattern = f"{INDEX_PREFIX}.*-{namespace}"
    http_json("POST", f"{cluster.url}/{pattern}/_refresh")
    answer = http_json("GET", f"{cluster.url}/{pattern}/_count")
    assert isinstance(answer, dict) and "count" in answer, answer
    return int(answer["count"])


def _ids_in(cluster: SearchCluster, namespace: str) -> list[str]:
    """``event.id`` of every document in the scenario's indices, read straight from the server."""
    pattern = f"{INDEX_PREFIX}.*-{namespace}"
    http_json("POST", f"{cluster.url}/{pattern}/_refresh")
    answer = http_json("POST", f"{cluster.url}/{pattern}/_search", {
        "size": 10000, "track_total_hits": True, "_source": ["event.id"], "query": {"match_all": {}},
    })
    assert isinstance(answer, dict) and "hits" in answer, answer
    hits = answer["hits"]["hits"]
    assert answer["hits"]["total"]["value"] == len(hits), "more documents than one page holds"
    ids = [hit["_source"]["event"]["id"] for hit in hits]
    assert all(hit["_id"] == event_id for hit, event_id in zip(hits, ids, strict=True))
    return ids


def _search_batch() -> Batch:
    # Flow and CloudTrail documents only: Config's free-form keys would exceed the field limit of
    # an index without templates.
    return dataset_batch(1500, 300, 0, origin="test://network-faults")


# -- HEC -----------------------------------------------------------------------------------------


def _hec_sink(receiver: HecReceiver, url: str, **settings: Any) -> HecSink:
    config = HecSinkConfig.from_settings({
        "hec_url": url, "token": receiver.token, "ack": True, "batch_events": 100, "concurrency": 3,
        "ack_poll_interval": 0.05, "ack_timeout": 30, "max_retries": 40, "retry_backoff": 0.05,
        "retry_max_seconds": 60, **settings,
    }, env={})
    return HecSink(config)


def _hec_ids(receiver: HecReceiver, expected: int) -> list[str]:
    return [event["event"]["event"]["id"] for event in receiver.read_events(expected=expected, timeout=20)]


# -- backfill through an outage ------------------------------------------------------------------


def _flow_log(path: Path, records: int) -> Path:
    """A default-format flow-log object of ``records`` lines in the S3 key layout."""
    start = 1_767_600_000
    rows = [FLOW_HEADER]
    for n in range(records):
        action = "REJECT" if n % 7 == 0 else "ACCEPT"
        rows.append(f"2 111122223333 eni-0a1b2c3d4e5f6{n % 10:04d} 198.51.100.{n % 250 + 1}"
                    f" 10.0.{n % 16}.{n % 200 + 10} {40000 + n % 20000} {(443, 22, 3389)[n % 3]} 6"
                    f" {1 + n % 9} {60 + n % 1500}"
                    f" {start + n // 50} {start + n // 50 + 60} {action} OK")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0))
    return path


def _source_ids(path: Path) -> list[str]:
    """The ``event.id`` of every record of the file, as the connector's own reader and normalizer give them."""
    processor = RecordProcessor(load_config(None, {}, {"geoip": {"city_db": "none"}}))
    try:
        return [event_id for unit in local_units([str(path)], "vpcflow")
                for item in processor.process(unit) if isinstance(item, NormalizedChunk) for event_id in item.ids]
    finally:
        processor.close()


def _dead_letter_ids(path: Path) -> list[str]:
    lines = path.read_bytes().splitlines() if path.exists() else []
    return dead_letter_ids(orjson.loads(line) for line in lines)


def _wait_for(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, f"the backfill exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_backfill_survives_the_sink_being_unreachable(
    es_cluster: SearchCluster, link_to: LinkTo, tmp_path: Path, report: Report,
) -> None:
    namespace = "backfill"
    _fresh_indices(es_cluster, namespace)
    source = _flow_log(tmp_path / "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/01/05/"
                       "111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f60718_20260105T0000Z_5f1c.log.gz",
                       BACKFILL_RECORDS)
    expected = _source_ids(source)
    assert len(expected) == BACKFILL_RECORDS
    link = link_to(es_cluster.url)
    # One small request at a time, each answered a little late, so that the load spans the outage;
    # retries enough to outlast it.
    link.add_toxic("latency", "downstream", latency=100)
    config = tmp_path / "connector.yaml"
    config.write_text(orjson.dumps({
        "elasticsearch": {"data_streams": False, "index_prefix": INDEX_PREFIX, "namespace": namespace,
                          "bulk_docs": 100, "concurrency": 1, "max_retries": int(OUTAGE_S * 5) + 40,
                          "retry_max_seconds": 1, "timeout_seconds": 10},
    }).decode())
    dlq = tmp_path / "dead-letters.ndjson"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_SIEM_CONNECTOR_")}
    env["PYTHONPATH"] = str(ROOT)
    log = tmp_path / "backfill.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "backfill", "--source", str(source), "--type", "vpcflow",
             "--sink", "elasticsearch", "--es-url", link.url, "--config", str(config), "--dlq", str(dlq),
             "--geoip-city", "none", "--no-progress"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _count(es_cluster, namespace) > 0, "the first documents arrived", proc)
        link.disable()
        time.sleep(2.0)  # a bulk request the server had already read may still land
        during = _count(es_cluster, namespace)
        time.sleep(OUTAGE_S - 2.0)
        assert proc.poll() is None, f"the backfill did not wait out the outage:\n{log.read_text()}"
        assert _count(es_cluster, namespace) == during < BACKFILL_RECORDS, "documents arrived during the outage"
        link.enable()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()  # the backfill started above, by its own PID
            proc.wait()
    output = log.read_text()
    assert code == 0, output
    assert f"written {BACKFILL_RECORDS}," in output, output
    result = reconcile("backfill-outage", expected, _ids_in(es_cluster, namespace), _dead_letter_ids(dlq), report)
    assert (result.duplicates, result.delivered, result.dead_lettered) == (0, BACKFILL_RECORDS, 0)


# -- slow answers, narrow link -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["elasticsearch", "opensearch"])
def test_slow_answers_and_narrow_link_deliver_everything(
    kind: str, request: pytest.FixtureRequest, link_to: LinkTo, report: Report,
) -> None:
    cluster = _cluster(request, kind)
    namespace = "slow"
    _fresh_indices(cluster, namespace)
    link = link_to(cluster.url)
    link.add_toxic("latency", "downstream", latency=RESPONSE_LATENCY_MS)
    link.add_toxic("bandwidth", "upstream", rate=BANDWIDTH_KB_S)
    batch = _search_batch()
    # Uncompressed bodies, so that the bandwidth cap shows: about 300 KB per request.
    sink = _search_sink(_search_config(kind, link.url, namespace, concurrency=4, bulk_docs=500,
                                       compression_level=0, timeout_seconds=15))
    started = time.monotonic()
    try:
        delivery = sink.send(batch)
    finally:
        sink.close()
    elapsed = time.monotonic() - started
    assert elapsed >= RESPONSE_LATENCY_MS / 1000, "the answers were not delayed"
    assert delivery.delivered == len(batch) and delivery.dead_lettered == []
    result = reconcile(f"{kind}-latency-bandwidth", batch.ids, _ids_in(cluster, namespace), [], report)
    assert (result.duplicates, result.delivered) == (0, len(batch))


# -- faults that heal: connections closed mid-body, answers that never arrive -------------------


@dataclass(frozen=True)
class HealingFault:
    """A toxic in place for ``FAULT_WINDOW_S`` while a batch is sent, and the sink's request timeout."""

    name: str
    toxic: str
    stream: str
    attributes: dict[str, int]
    request_timeout: float
    # True when the server has the whole request before the answer is lost: the resend is a copy.
    answer_lost: bool


# Every connection is closed after 4 KiB towards the server: inside the first request body.
RESET_MID_BODY = HealingFault("reset-mid-body", "limit_data", "upstream", {"bytes": 4096}, 10.0, False)
# Requests reach the server, which writes the documents; its answers are dropped on the way back.
ANSWER_DROPPED = HealingFault("answer-dropped", "timeout", "downstream", {"timeout": 0}, 1.5, True)
# The answers are held back longer than the sink waits for them.
ANSWER_TOO_LATE = HealingFault("answer-too-late", "latency", "downstream", {"latency": 3000}, 1.0, True)
# Every connection is closed after 140 bytes towards the client: inside the HEC receiver's first
# answer (127 bytes of headers, then the JSON body), so the sink reads headers and half an answer;
# Elasticsearch keeps its connections open, and an answer on one of them is cut where the 140 end.
ANSWER_CUT = HealingFault("answer-cut", "limit_data", "downstream", {"bytes": 140}, 10.0, True)


def _faults(*faults: HealingFault) -> list[Any]:
    return [pytest.param(fault, id=fault.name) for fault in faults]


def _send_through(fault: HealingFault, link: ProxyLink, sink: SearchBulkSink | HecSink, batch: Batch) -> Delivery:
    """Send ``batch`` while the fault is in place (it heals after ``FAULT_WINDOW_S``), then close the sink."""
    try:
        with link.toxic_for(FAULT_WINDOW_S, fault.toxic, fault.stream, **fault.attributes):
            return sink.send(batch)
    finally:
        sink.close()


@pytest.mark.parametrize("fault", _faults(RESET_MID_BODY, ANSWER_DROPPED, ANSWER_CUT))
def test_elasticsearch_retries_through_a_fault_without_duplicates(
    fault: HealingFault, es_cluster: SearchCluster, link_to: LinkTo, report: Report,
) -> None:
    namespace = fault.name.replace("-", "")
    _fresh_indices(es_cluster, namespace)
    link = link_to(es_cluster.url)
    batch = _search_batch()
    sink = _search_sink(_search_config("elasticsearch", link.url, namespace, concurrency=4, bulk_docs=250,
                                       max_retries=60, retry_max_seconds=0.5,
                                       timeout_seconds=fault.request_timeout))
    delivery = _send_through(fault, link, sink, batch)
    assert sink.stats.retried_requests > 0, "no request failed: the fault did not happen"
    if fault.answer_lost:
        # The resent documents were already written: create with the same _id answers 409, which
        # counts as delivered.
        assert sink.stats.conflicts > 0
    assert delivery.delivered == len(batch) and delivery.dead_lettered == []
    result = reconcile(f"elasticsearch-{fault.name}", batch.ids, _ids_in(es_cluster, namespace), [], report)
    assert (result.duplicates, result.delivered) == (0, len(batch))
    assert _count(es_cluster, namespace) == len(batch)


# The receiver closes its connection after each answer, so a dropped answer shows as a connection
# ended without one; an answer held back longer than request_timeout shows as a read timeout.
@pytest.mark.parametrize("fault", _faults(RESET_MID_BODY, ANSWER_DROPPED, ANSWER_TOO_LATE, ANSWER_CUT))
def test_hec_retries_through_a_fault_with_bounded_duplicates(
    fault: HealingFault, hec_receiver: HecReceiver, link_to: LinkTo, report: Report,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = link_to(hec_receiver.url)
    batch = mixed_batch(600, 200, 100)
    sink = _hec_sink(hec_receiver, link.url, request_timeout=fault.request_timeout)
    delivery = _send_through(fault, link, sink, batch)
    assert sink.stats.retries > 0, "no request failed: the fault did not happen"
    if fault is ANSWER_CUT:
        retried = [str(getattr(record, "error", "")) for record in caplog.records]
        assert any("IncompleteRead" in error for error in retried), "no answer was cut in its body"
    assert delivery.delivered == len(batch) and delivery.dead_lettered == []
    result = reconcile(f"hec-{fault.name}", batch.ids, _hec_ids(hec_receiver, len(batch)), [], report)
    assert result.delivered == len(batch)
    # HEC has no idempotent write: each resend of a request the receiver already had is one more
    # copy, so there is at most one request's worth of copies per resend.
    resent = sink.stats.retries + sink.stats.resends
    assert result.duplicates <= resent * sink.config.batch_events, (result.duplicates, resent)
    if fault.answer_lost:
        assert result.duplicates > 0, "the receiver never had a request twice: no answer was lost"


# -- a sink slower than the SQS visibility timeout -----------------------------------------------

# Seconds a received message stays hidden; the service renews that every third of it while in work.
VISIBILITY_S = 2
SLOW_OBJECT_RECORDS = 3000
# One bulk request per pipeline batch and one batch at a time, each answered late and sent through
# a narrow link: the object takes several visibility timeouts.
SLOW_BULK_DOCS = 250
SLOW_ANSWER_MS = 300
SLOW_LINK_KB_S = 1024
# ``forward`` with its visibility heartbeat switched off: the control run, in which the message
# must come back while its first pass is still writing.
FORWARD_WITHOUT_HEARTBEAT = ("import sys; import connector.forward.service as service; "
                             "service.keep_hidden = lambda *args: None; "
                             "from connector.cli import main; sys.exit(main())")
STOPPED = re.compile(r"stopped: (\d+) messages received, \d+ settled; records in (\d+), out (\d+)")


def _create_operations(cluster: SearchCluster, index: str) -> int:
    """Documents the cluster was asked to create in ``index``: written ones plus refused ones (409)."""
    answer = http_json("GET", f"{cluster.url}/{index}/_stats/indexing")
    assert isinstance(answer, dict) and "_all" in answer, answer
    indexing = answer["_all"]["primaries"]["indexing"]
    return int(indexing["index_total"]) + int(indexing["index_failed"])


def _start_forward(aws: Aws, tmp_path: Path, heartbeat: bool, *flags: str) -> Forward:
    """``forward`` on the test's queue as a subprocess, its dead letters in ``tmp_path``."""
    command = forward_argv() if heartbeat else [sys.executable, "-c", FORWARD_WITHOUT_HEARTBEAT, "forward"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_SIEM_CONNECTOR_")} | aws.moto.env
    log = tmp_path / "forward.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*command, "--queue-url", aws.queue_url, "--dlq", str(tmp_path / "dead-letters.ndjson"), *flags],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Forward(proc, tmp_path / "out", log)


@pytest.mark.parametrize("heartbeat", [True, False], ids=["heartbeat", "no-heartbeat"])
def test_heartbeat_keeps_a_slow_sink_from_a_second_delivery(
    heartbeat: bool, moto: MotoServer, es_cluster: SearchCluster, link_to: LinkTo, tmp_path: Path, report: Report,
) -> None:
    namespace = "visibility" if heartbeat else "noheartbeat"
    _fresh_indices(es_cluster, namespace)
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    # The queue's own default agrees with the service's: no receive hides the message for longer.
    aws.sqs.set_queue_attributes(QueueUrl=aws.queue_url, Attributes={"VisibilityTimeout": str(VISIBILITY_S)})
    aws.drain_test_events()
    key = ("AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/01/05/"
           "111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f60718_20260105T0010Z_9a2e.log.gz")
    source = _flow_log(tmp_path / key, SLOW_OBJECT_RECORDS)
    expected = _source_ids(source)
    assert len(expected) == SLOW_OBJECT_RECORDS
    aws.put(key, source.read_bytes())
    link = link_to(es_cluster.url)
    link.add_toxic("latency", "downstream", latency=SLOW_ANSWER_MS)
    link.add_toxic("bandwidth", "upstream", rate=SLOW_LINK_KB_S)
    config = tmp_path / "connector.yaml"
    config.write_text(orjson.dumps({
        "pipeline": {"batch_docs": SLOW_BULK_DOCS},
        "elasticsearch": {"data_streams": False, "index_prefix": INDEX_PREFIX, "namespace": namespace,
                          "bulk_docs": SLOW_BULK_DOCS, "concurrency": 1, "compression_level": 0,
                          "timeout_seconds": 30},
    }).decode())
    # Two workers and two places in flight: a message that reappears is taken again at once and
    # processed beside its first pass.
    forward = _start_forward(aws, tmp_path, heartbeat, "--visibility-timeout", str(VISIBILITY_S),
                             "--max-in-flight", "2", "--workers", "2", "--idle-exit", "3", "--sink", "elasticsearch",
                             "--es-url", link.url, "--config", str(config), "--geoip-city", "none")
    try:
        # From the first receive to the delete: how long the message was in work.
        wait_for(lambda: aws.depth() != (1, 0), 30, "the message received", forward)
        received = time.monotonic()
        wait_for(lambda: aws.depth() == (0, 0), 60, "the message deleted", forward)
        held = time.monotonic() - received
        assert forward.wait(30) == 0, forward.log_text()
    finally:
        forward.stop()
    scenario = "elasticsearch-slow-sink-short-visibility" + ("" if heartbeat else "-no-heartbeat")
    result = reconcile(scenario, expected, _ids_in(es_cluster, namespace),
                       _dead_letter_ids(tmp_path / "dead-letters.ndjson"), report)
    assert held >= 3 * VISIBILITY_S, f"the object took {held:.1f}s, not several visibility timeouts"
    log = forward.log_text()
    stopped = STOPPED.search(log)
    assert stopped is not None, log
    receives, records_in, records_out = (int(n) for n in stopped.groups())
    creates = _create_operations(es_cluster, f"{INDEX_PREFIX}.vpcflow-{namespace}")
    # Documents are created with _id = event.id: a second pass answers 409 and adds no copy.
    assert (result.delivered, result.duplicates, result.dead_lettered) == (SLOW_OBJECT_RECORDS, 0, 0)
    # Each receive is one whole pass over the object, as the service counts it and as the cluster saw it.
    assert records_in == records_out == creates == receives * SLOW_OBJECT_RECORDS, (creates, log)
    if heartbeat:
        assert receives == 1, f"the message was received {receives} times despite the heartbeat:\n{log}"
    else:
        assert receives >= 2, f"without the heartbeat the message was received only once in {held:.1f}s"
