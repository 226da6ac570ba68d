"""The shipped example configuration on the demo day: fewer documents, skips printed by rule name,
the demo's brute-force and scanner addresses marked with threat.enrichments — and the reduction
the recipes page states is the one measured here."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector.demo.actors import BRUTE_FORCE_RDP, BRUTE_FORCE_SSH, FLOOD_SOURCE, PORT_SCANNER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "examples" / "filters.yml"
FEED = ROOT / "deploy" / "examples" / "demo-known-bad.txt"
RECIPES = ROOT / "docs" / "filters-and-threat-intel.md"
DATASETS = ("aws.vpcflow", "aws.cloudtrail", "aws.config")


def demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "connector", "demo", "--out", str(out), *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done


def documents(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {ds: [json.loads(line) for line in (out / f"{ds}.ndjson").read_bytes().splitlines()] for ds in DATASETS}


def sizes(out: Path) -> dict[str, int]:
    return {ds: (out / f"{ds}.ndjson").stat().st_size for ds in DATASETS}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    plain, filtered = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("filtered")
    demo(plain)
    done = demo(filtered, "--config", str(EXAMPLE))
    return {"plain": plain, "filtered": filtered, "output": done.stdout + done.stderr,
            "plain_docs": documents(plain), "filtered_docs": documents(filtered)}


def feed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for line in FEED.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                continue  # a domain
    return networks


_LISTED: dict[str, bool] = {}


def listed(address: str | None, networks: list[Any]) -> bool:
    if not address:
        return False
    known = _LISTED.get(address)
    if known is None:
        ip = ipaddress.ip_address(address)
        known = _LISTED[address] = any(ip.version == n.version and ip in n for n in networks)
    return known


def test_fewer_documents_and_skips_by_rule_name(runs):
    plain, filtered = runs["plain_docs"], runs["filtered_docs"]
    assert len(filtered["aws.vpcflow"]) < len(plain["aws.vpcflow"]) / 2
    assert len(filtered["aws.cloudtrail"]) < len(plain["aws.cloudtrail"])
    assert len(filtered["aws.config"]) == len(plain["aws.config"])
    output = runs["output"]
    line = re.search(r"skipped by rule: (.*)", output)
    assert line is not None, output
    counts = {rule: re.search(rf"\b{rule}=(\d+)", line.group(1)) for rule in
              ("drop-internal-accepts", "sample-egress-accepts", "drop-read-only-calls")}
    for rule, found in counts.items():
        assert found is not None and int(found.group(1)) > 0, (rule, line.group(1))
    assert "Skipped by rule" in output and "drop-internal-accepts" in output
    dropped = sum(int(found.group(1)) for found in counts.values() if found is not None)
    total_plain = sum(len(v) for v in plain.values())
    assert sum(len(v) for v in filtered.values()) == total_plain - dropped  # every record written or counted


def test_every_document_with_a_listed_address_is_marked_and_no_other(runs):
    networks = feed_networks()
    docs = runs["filtered_docs"]
    marked: Counter[str] = Counter()
    for doc in docs["aws.vpcflow"] + docs["aws.cloudtrail"]:
        fields = {f: doc.get(f.split(".")[0], {}).get("ip") for f in ("source.ip", "destination.ip")}
        expected = {(v, f) for f, v in fields.items() if listed(v, networks)}
        found = {(e["matched"]["atomic"], e["matched"]["field"]) for e in doc.get("threat", {}).get("enrichments", [])}
        assert found == expected, doc["event"]["id"]
        if expected:
            assert "threat-intel-match" in doc["tags"] and doc["event"]["severity"] >= 73
            for address, _field in expected:
                marked[address] += 1
    for address, _country in (*BRUTE_FORCE_SSH, *BRUTE_FORCE_RDP, PORT_SCANNER):
        assert marked[address] > 0, address
    assert marked[FLOOD_SOURCE[0]] > 0  # through the /24 in the feed


def test_marked_records_are_kept_by_the_first_rule(runs):
    plain, filtered = runs["plain_docs"], runs["filtered_docs"]
    networks = feed_networks()

    def listed_ids(docs: list[dict[str, Any]]) -> set[str]:
        return {d["event"]["id"] for d in docs
                if listed(d.get("source", {}).get("ip"), networks) or listed(d.get("destination", {}).get("ip"),
                                                                             networks)}

    assert listed_ids(plain["aws.vpcflow"]) == listed_ids(filtered["aws.vpcflow"])


def test_the_recipes_page_states_the_measured_reduction(runs):
    plain, filtered = runs["plain_docs"], runs["filtered_docs"]
    before, after = sizes(runs["plain"]), sizes(runs["filtered"])
    text = RECIPES.read_text()
    for dataset in DATASETS:
        row = (f"| {dataset} | {len(plain[dataset]):,} | {len(filtered[dataset]):,} | "
               f"{before[dataset] / 1e6:.1f} MB | {after[dataset] / 1e6:.1f} MB |")
        assert row in text, f"{RECIPES.name} should hold the measured row {row}"


def test_the_recipes_keep_every_labeled_true_positive(runs):
    from connector.demo.estate import generate_estate

    manifest = generate_estate(runs["plain"] / "estate-labels", seed=7)
    plain, filtered = runs["plain_docs"], runs["filtered_docs"]
    kept_ids = {d["event"]["id"] for docs in filtered.values() for d in docs}
    checked = 0
    by_value: dict[str, dict[Any, set[str]]] = {}
    for rule_id, label in manifest.labels.items():
        if label.field == "event.id":
            missing = label.expected - kept_ids
        else:  # a correlation over addresses: every record of a reported address must reach the SIEM
            part, key = label.field.split(".", 1)
            if label.field not in by_value:
                by_value[label.field] = {}
                for docs in plain.values():
                    for d in docs:
                        by_value[label.field].setdefault(d.get(part, {}).get(key), set()).add(d["event"]["id"])
            records = set().union(*(by_value[label.field].get(v, set()) for v in label.expected))
            missing = records - kept_ids
        assert not missing, (rule_id, label.field, sorted(missing)[:5])
        checked += 1
    assert checked == len(manifest.labels) > 20
