"""Flow logs are filtered, pruned and marked by the normalizer while it writes (the fast path
decides from each record's values before any JSON exists). Whatever path a record takes, the
result must be the one the document stage gives on decoded documents: same documents kept,
same bytes after pruning, same counts by rule."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import orjson
import pytest

from connector.config import load_config
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sources.base import WorkUnit
from connector.transform.stage import DocumentStage
from tests.unit._support import FLOW_KEY, V2_HEADER, v2_line

FEED = "61.177.172.13\n91.240.118.0/24\n"
RULES = [
    ("keep-listed", None, {"threat.enrichments.indicator.provider": {"exists": True}}, "keep", None),
    ("drop-internal-accepts", "aws.vpcflow", {"event.outcome": "success", "network.direction": "internal"},
     "drop", None),
    ("drop-dns", "aws.vpcflow", {"destination.port": {"in": [53, 123]}, "network.transport": "udp"}, "drop", None),
    ("drop-net", "aws.vpcflow", {"related.ip": {"cidr": "10.9.0.0/16"}}, "drop", None),
    ("drop-denied-type", "aws.vpcflow", {"event.type": "denied", "source.port": {"not": {"in": [22]}}}, "drop",
     None),
    ("sample-egress", "aws.vpcflow", {"network.direction": "outbound"}, "sample", 0.3),
    ("drop-eni", "aws.vpcflow", {"aws.vpcflow.interface_id": {"suffix": "7"}}, "drop", None),
]
GEO_RULE = ("drop-german-sources", "aws.vpcflow", {"source.geo.country_iso_code": "DE"}, "drop", None)


def lines(seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    publics = ["61.177.172.13", "91.240.118.172", "145.253.232.92", "52.94.76.10", "24.7.46.140"]
    privates = ["10.0.0.5", "10.0.1.9", "10.9.3.4", "172.16.0.8"]
    for _n in range(3000):
        src, dst = rnd.choice(publics + privates), rnd.choice(publics + privates)
        if src == dst:
            continue
        if rnd.random() < 0.05:  # incomplete: the general path
            out.append(v2_line(src=src, dst=dst, sport="-", dport="-", proto="-", packets="-", nbytes="-"))
            continue
        dport = rnd.choice((22, 53, 123, 443, 3389))
        out.append(v2_line(src=src, dst=dst, sport=rnd.randint(1024, 65535), dport=dport,
                           proto=17 if dport in (53, 123) else 6, action=rnd.choice(("ACCEPT", "REJECT")),
                           eni=f"eni-0a1b2c3d4e5f6071{rnd.randint(0, 9)}"))
    return out


def yaml_rules(rules: list[tuple]) -> str:
    out = ["filters:"]
    for name, dataset, when, action, rate in rules:
        out.append(f"  - name: {name}")
        if dataset:
            out.append(f"    dataset: {dataset}")
        out.append(f"    when: {orjson.dumps(when).decode()}")
        out.append(f"    action: {action}")
        if rate is not None:
            out.append(f"    rate: {rate}")
    return "\n".join(out) + "\n"


def run(tmp_path: Path, config_text: str, body: str,
        paths: list[bool] | None = None) -> tuple[list[bytes], list[str], Counter[str]]:
    config_file = tmp_path / "c.yaml"
    config_file.write_text(config_text)
    processor = RecordProcessor(load_config(str(config_file), {}))
    unit = WorkUnit(key=FLOW_KEY, origin=FLOW_KEY, open=lambda: __import__("io").BytesIO(body.encode()),
                    type_hint="vpcflow")
    encoded: list[bytes] = []
    ids: list[str] = []
    skipped: Counter[str] = Counter()
    for item in processor.process(unit):
        if isinstance(item, NormalizedChunk):
            encoded += item.encoded
            ids += item.ids
        elif hasattr(item, "rule"):
            skipped[item.rule] += item.count
    if paths is not None:  # which path applied the rules: the template (True) or decoded documents
        paths += list(processor._flows._filtered_fast.values())
    return encoded, ids, skipped


@pytest.mark.parametrize("rules", [RULES, [*RULES, GEO_RULE]], ids=["in-template", "geo-rule-decoded"])
@pytest.mark.parametrize("prune", [[], ["aws.vpcflow.version", "network.community_id", "related.ip"],
                                   ["aws.vpcflow", "source.geo.city_name"]], ids=["no-prune", "leaves", "subtree"])
def test_normalizer_filtering_equals_the_stage_on_decoded_documents(tmp_path, rules, prune):
    feed = tmp_path / "feed.txt"
    feed.write_text(FEED)
    body = "\n".join([V2_HEADER, *lines(len(rules) + len(prune))]) + "\n"
    intel = f"threat_intel:\n  feeds:\n    - {{name: demo, path: {feed}, format: plain}}\n"
    geo = "geoip:\n  city_db: embedded\n"
    prune_text = f"prune_fields:\n  aws.vpcflow: {orjson.dumps(prune).decode()}\n" if prune else ""
    used: list[bool] = []
    filtered, kept_ids, skipped = run(tmp_path, geo + intel + yaml_rules(rules) + prune_text, body, used)
    # GeoIP fields are written from pre-rendered pieces: a rule or prune path among them is applied
    # to decoded documents; everything else in the template.
    assert used == [GEO_RULE not in rules and "source.geo.city_name" not in prune]

    # The reference: every document written unfiltered, then the stage on decoded documents.
    plain, plain_ids, _ = run(tmp_path, geo, body)
    config = load_config(str(tmp_path / "c.yaml"), {})
    from connector.transform.build import threat_marker

    stage = DocumentStage(load_config_rules(tmp_path, rules), {"aws.vpcflow": tuple(prune)} if prune else {},
                          threat_marker(load_config_feeds(tmp_path, intel)))
    chunk = NormalizedChunk("aws.vpcflow", plain, plain_ids, ["t"] * len(plain), None)
    expected_skipped = stage.apply(chunk)
    assert config is not None
    assert kept_ids == chunk.ids
    assert skipped == expected_skipped
    assert [without_ingested(x) for x in filtered] == [without_ingested(x) for x in chunk.encoded]
    assert sum(skipped.values()) > 0 and any(b"threat" in x for x in filtered)


def without_ingested(text: bytes) -> dict:
    doc = orjson.loads(text)
    doc["event"].pop("ingested")  # the time of each run
    return doc


def load_config_rules(tmp_path: Path, rules: list[tuple]) -> tuple:
    path = tmp_path / "rules-only.yaml"
    path.write_text(yaml_rules(rules))
    return load_config(str(path), {}).filters


def load_config_feeds(tmp_path: Path, intel: str):
    path = tmp_path / "feeds-only.yaml"
    path.write_text(intel)
    return load_config(str(path), {})
