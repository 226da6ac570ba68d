"""Filter rules: first match decides, drop/sample/keep, deterministic sampling, configuration errors
that name the rule, pruning."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from connector.config import load_config
from connector.errors import ConfigError
from connector.transform.filters import FilterSet, sampled_in
from connector.transform.prune import compile_pruner
from connector.transform.settings import FilterRule
from connector.transform.stage import DocumentStage


def rule(name: str, action: str, when: dict, dataset: str | None = "aws.vpcflow", rate: float | None = None):
    return FilterRule(name=name, action=action, when=when, dataset=dataset, rate=rate)


def doc(direction: str, outcome: str = "success") -> dict:
    return {"event": {"dataset": "aws.vpcflow", "outcome": outcome}, "network": {"direction": direction}}


class Chunk:
    def __init__(self, dataset: str, docs: list[dict], with_originals: bool = False) -> None:
        self.dataset = dataset
        self.encoded = [orjson.dumps(d) for d in docs]
        self.ids = [f"id-{i}" for i in range(len(docs))]
        self.timestamps = [f"2026-11-27T00:00:{i % 60:02d}.000Z" for i in range(len(docs))]
        self.originals = [f"line {i}" for i in range(len(docs))] if with_originals else None


def test_first_matching_rule_decides_and_keep_ends_the_search():
    rules = FilterSet([rule("keep-rejects", "keep", {"event.outcome": "failure"}),
                       rule("drop-internal", "drop", {"network.direction": "internal"}),
                       rule("drop-all", "drop", {})])
    chosen = rules.for_dataset("aws.vpcflow")
    assert FilterSet.skipped_by(chosen, doc("internal", "failure"), "a") is None  # kept by the first rule
    assert FilterSet.skipped_by(chosen, doc("internal"), "a") == "drop-internal"
    assert FilterSet.skipped_by(chosen, doc("inbound"), "a") == "drop-all"


def test_rules_apply_only_to_their_dataset():
    rules = FilterSet([rule("flows-only", "drop", {}), rule("everything", "drop", {"x": "y"}, dataset=None)])
    assert [r.name for r in rules.for_dataset("aws.vpcflow")] == ["flows-only", "everything"]
    assert [r.name for r in rules.for_dataset("aws.cloudtrail")] == ["everything"]


def test_sampling_keeps_the_rate_and_the_same_records_every_time():
    ids = [f"84663e19c7ecf21cfa84-{n}" for n in range(20_000)]
    kept = [i for i in ids if sampled_in(i, 0.1)]
    assert 1800 < len(kept) < 2200  # 10 % give or take sampling noise
    assert kept == [i for i in ids if sampled_in(i, 0.1)]  # deterministic
    assert set(i for i in ids if sampled_in(i, 0.05)) <= set(kept)  # a lower rate keeps a subset
    assert not any(sampled_in(i, 0.0) for i in ids[:1000])
    assert all(sampled_in(i, 1.0) for i in ids[:1000])


def test_sampling_decision_is_reproducible_from_the_documented_hash():
    import hashlib

    eid = "ad4f1407c90962551b5f-3"
    fraction = int.from_bytes(hashlib.blake2b(eid.encode(), digest_size=8).digest(), "big") / 2**64
    assert sampled_in(eid, fraction + 1e-9) and not sampled_in(eid, fraction - 1e-9)


def test_stage_drops_samples_counts_and_keeps_lists_aligned():
    docs = [doc("internal") for _ in range(100)] + [doc("outbound") for _ in range(1000)] + [doc("inbound")]
    chunk = Chunk("aws.vpcflow", docs, with_originals=True)
    stage = DocumentStage((rule("drop-internal", "drop", {"network.direction": "internal"}),
                           rule("sample-egress", "sample", {"network.direction": "outbound"}, rate=0.2)), {}, None)
    ids_before = list(chunk.ids)
    skipped = stage.apply(chunk)
    sampled_kept = sum(sampled_in(f"id-{i}", 0.2) for i in range(100, 1100))
    assert skipped == Counter({"drop-internal": 100, "sample-egress": 1000 - sampled_kept})
    assert len(chunk.encoded) == len(chunk.ids) == len(chunk.timestamps) == len(chunk.originals) == sampled_kept + 1
    for text, eid, ts, original in zip(chunk.encoded, chunk.ids, chunk.timestamps, chunk.originals, strict=True):
        position = ids_before.index(eid)
        assert orjson.loads(text) == docs[position]
        assert ts == f"2026-11-27T00:00:{position % 60:02d}.000Z" and original == f"line {position}"
    assert orjson.loads(chunk.encoded[-1])["network"]["direction"] == "inbound"


def test_stage_leaves_other_datasets_untouched():
    chunk = Chunk("aws.cloudtrail", [doc("internal")])
    before = list(chunk.encoded)
    assert DocumentStage((rule("drop-internal", "drop", {}),), {}, None).apply(chunk) == Counter()
    assert chunk.encoded == before


def test_prune_removes_paths_and_empty_parents():
    d = {"event": {"id": "x", "original": "raw"}, "aws": {"vpcflow": {"version": "2"}},
         "threat": {"enrichments": [{"indicator": {"ip": "1.2.3.4", "description": "d"}}]}}
    prune = compile_pruner(["aws.vpcflow.version", "event.original", "threat.enrichments.indicator.description",
                            "not.there"])
    assert prune(d) is True
    assert d == {"event": {"id": "x"}, "threat": {"enrichments": [{"indicator": {"ip": "1.2.3.4"}}]}}
    assert prune(d) is False


def test_stage_prunes_only_its_dataset_and_reserializes():
    chunk = Chunk("aws.vpcflow", [{"event": {"id": "a", "original": "raw"}, "aws": {"vpcflow": {"version": "2",
                                                                                             "action": "ACCEPT"}}}])
    DocumentStage((), {"aws.vpcflow": ("aws.vpcflow.version", "event.original")}, None).apply(chunk)
    assert orjson.loads(chunk.encoded[0]) == {"event": {"id": "a"}, "aws": {"vpcflow": {"action": "ACCEPT"}}}


def write(tmp_path, text: str) -> str:
    path = tmp_path / "filters.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_issue_example_configuration_loads(tmp_path):
    config = load_config(write(tmp_path, """
filters:
  - name: drop-internal-accepts
    dataset: aws.vpcflow
    when:
      event.outcome: success
      network.direction: internal
    action: drop
  - name: sample-egress-accepts
    dataset: aws.vpcflow
    when: {network.direction: outbound, event.outcome: success}
    action: sample
    rate: 0.1
  - name: drop-read-only-calls
    dataset: aws.cloudtrail
    when:
      event.action: {prefix: [Describe, Get, List]}
      user.name: {in: [monitoring-bot]}
    action: drop
prune_fields:
  aws.vpcflow: [aws.vpcflow.version, event.original]
"""), {})
    assert [r.name for r in config.filters] == ["drop-internal-accepts", "sample-egress-accepts",
                                                "drop-read-only-calls"]
    assert config.filters[1].rate == 0.1 and config.filters[2].dataset == "aws.cloudtrail"
    assert config.prune_fields == {"aws.vpcflow": ("aws.vpcflow.version", "event.original")}


@pytest.mark.parametrize(("text", "message"), [
    ("filters:\n  - {name: r1, when: {event.action: {startswith: Get}}, action: drop}\n",
     "filter rule 'r1': when.event.action: unknown operator(s) startswith"),
    ("filters:\n  - {name: bad-net, when: {source.ip: {cidr: 10.0.0.0/33}}, action: drop}\n",
     "filter rule 'bad-net': when.source.ip: cidr '10.0.0.0/33' is not a network"),
    ("filters:\n  - {name: bad-re, when: {user.name: {regex: '(x'}}, action: drop}\n",
     "filter rule 'bad-re': when.user.name: regex '(x' is not valid"),
    ("filters:\n  - {name: r2, when: {}, action: delete}\n", "filter rule 'r2': action 'delete' is not one of"),
    ("filters:\n  - {name: r3, action: sample}\n", "filter rule 'r3': action sample needs a rate between 0 and 1"),
    ("filters:\n  - {name: r4, action: sample, rate: 1.5}\n", "filter rule 'r4': action sample needs a rate"),
    ("filters:\n  - {name: r5, action: drop, rate: 0.5}\n", "filter rule 'r5': rate applies to action sample only"),
    ("filters:\n  - {name: r6, dataset: aws.vpcflows, action: drop}\n",
     "filter rule 'r6': dataset 'aws.vpcflows' is not one of"),
    ("filters:\n  - {name: r7, action: drop, whem: {}}\n", "filter rule 'r7': unknown key(s) whem"),
    ("filters:\n  - {when: {}, action: drop}\n", "filters entry 1: needs a name"),
    ("filters:\n  - {name: a, action: drop}\n  - {name: a, action: keep}\n", "filter rule name(s) used twice: a"),
    ("filters: {name: a}\n", "filters must be a list of rules"),
    ("prune_fields:\n  aws.vpcflow: ['@timestamp']\n", "prune_fields.aws.vpcflow: @timestamp cannot be removed"),
    ("prune_fields:\n  aws.flows: [event.original]\n", "prune_fields: dataset 'aws.flows' is not one of"),
    ("prune_fields:\n  aws.vpcflow: event.original\n", "prune_fields.aws.vpcflow must be a list of field paths"),
])
def test_bad_rules_stop_the_start_naming_the_rule(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert message in str(caught.value)
    assert path in str(caught.value)


def test_configuration_file_from_the_environment(tmp_path):
    path = write(tmp_path, "filters:\n  - {name: all, action: drop}\n")
    assert [r.name for r in load_config(None, {"AWS_SIEM_CONNECTOR_CONFIG": path}).filters] == ["all"]
