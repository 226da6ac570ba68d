"""Planning: only the day partitions of the range are listed (exact keys, exact ListObjectsV2 calls)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connector.backfill import BackfillScope, plan_backfill
from connector.formats.detect import CLOUDTRAIL, CONFIG, VPCFLOW
from tests.backfill.conftest import BUCKET
from tests.backfill.estate import ACCOUNT_A, ACCOUNT_B, PREFIX, Estate
from tests.servers.moto_server import MotoServer

START, END = dt.date(2026, 1, 9), dt.date(2026, 1, 11)


def counted_client(moto: MotoServer) -> tuple[Any, list[dict[str, Any]]]:
    """An S3 client whose every ListObjectsV2 request is recorded as it goes on the wire."""
    client = moto.client("s3")
    calls: list[dict[str, Any]] = []
    client.meta.events.register("before-call.s3.ListObjectsV2",
                                lambda params, **_: calls.append(dict(params["query_string"])))
    return client, calls


def test_three_days_list_exactly_their_objects_with_the_minimum_of_list_calls(moto, estate: Estate):
    client, calls = counted_client(moto)
    plan = plan_backfill(client, BackfillScope(BUCKET, START, END, prefix=PREFIX))

    assert {o.key for o in plan.objects} == estate.keys(START, END)
    assert len(plan.objects) == 48
    # Discovery, one call per folder: AWSLogs/ (1); account A: services (1), regions of CloudTrail,
    # Config, vpcflowlogs (3); account B: services (1), Config regions (1); Hive account B: services
    # (1), regions (1); org: accounts (1), B's services (1), regions (1) -> 12.
    # Days: 2 regions x 3 days for each of A/CloudTrail, A/Config, A/vpcflowlogs, B/Config,
    # B/Hive flow logs, B/org trail -> 36. Digest folders are never listed.
    discovery = [c for c in calls if c.get("delimiter") == "/"]
    days = [c["prefix"] for c in calls if "delimiter" not in c]
    assert (len(discovery), len(days), plan.list_calls) == (12, 36, 48)
    assert not any("CloudTrail-Digest" in c["prefix"] for c in calls)
    # Exactly the day folders of the range, each listed once, in each layout's own spelling.
    assert sorted(days) == sorted(set(days)) and set(days) == {day_folder(k) for k in estate.keys(START, END)}
    assert f"{PREFIX}/AWSLogs/{ACCOUNT_A}/Config/us-east-1/2026/1/9/" in days
    assert (f"{PREFIX}/AWSLogs/aws-account-id={ACCOUNT_B}/aws-service=vpcflowlogs/aws-region=eu-west-1/"
            "year=2026/month=01/day=10/") in days


def day_folder(key: str) -> str:
    """The date folder an object sits in (Config objects one level further down)."""
    for marker in ("/ConfigHistory/", "/ConfigSnapshot/"):
        if marker in key:
            return key.split(marker)[0] + "/"
    return key.rsplit("/", 1)[0] + "/"


def test_objects_carry_type_account_region_and_etag(moto, estate: Estate):
    plan = plan_backfill(moto.client("s3"), BackfillScope(BUCKET, START, START, prefix=PREFIX))
    by_key = {o.key: o for o in plan.objects}
    hive = next(k for k in by_key if "aws-account-id=" in k)
    org = next(k for k in by_key if "/o-abc123def4/" in k)
    assert (by_key[hive].kind, by_key[hive].account) == (VPCFLOW, ACCOUNT_B)
    assert (by_key[org].kind, by_key[org].account) == (CLOUDTRAIL, ACCOUNT_B)
    assert {o.kind for o in plan.objects} == {VPCFLOW, CLOUDTRAIL, CONFIG}
    assert all(len(o.etag) == 32 and o.size > 0 for o in plan.objects)


def test_filters_by_account_region_and_type(moto, estate: Estate):
    client = moto.client("s3")
    only_a = plan_backfill(client, BackfillScope(BUCKET, START, END, prefix=PREFIX, accounts=frozenset({ACCOUNT_A})))
    assert {o.key for o in only_a.objects} == estate.keys(START, END, accounts=(ACCOUNT_A,))
    eu = plan_backfill(client, BackfillScope(BUCKET, START, END, prefix=PREFIX, regions=frozenset({"eu-west-1"})))
    assert {o.key for o in eu.objects} == estate.keys(START, END, regions=("eu-west-1",))
    flows = plan_backfill(client, BackfillScope(BUCKET, START, END, prefix=PREFIX, types=frozenset({VPCFLOW})))
    assert {o.key for o in flows.objects} == estate.keys(START, END, kinds=(VPCFLOW,))
    both_b = plan_backfill(client, BackfillScope(BUCKET, START, END, prefix=PREFIX, accounts=frozenset({ACCOUNT_B}),
                                                 regions=frozenset({"us-east-1"}), types=frozenset({CLOUDTRAIL})))
    assert {o.key for o in both_b.objects} == estate.keys(START, END, accounts=(ACCOUNT_B,), regions=("us-east-1",),
                                                          kinds=(CLOUDTRAIL,))
    assert all("/o-abc123def4/" in o.key for o in both_b.objects) and len(both_b.objects) == 6


def test_config_day_folders_are_not_zero_padded_and_day_1_is_not_day_10(moto, estate: Estate):
    day = dt.date(2026, 1, 1)
    plan = plan_backfill(moto.client("s3"), BackfillScope(BUCKET, day, day, prefix=PREFIX, types=frozenset({CONFIG})))
    assert {o.key for o in plan.objects} == estate.keys(day, day, kinds=(CONFIG,))
    assert all("/2026/1/1/" in o.key for o in plan.objects) and len(plan.objects) == 4


def test_without_the_prefix_nothing_under_it_is_found(moto, estate: Estate):
    plan = plan_backfill(moto.client("s3"), BackfillScope(BUCKET, START, END))
    assert plan.objects == []
    stray = plan_backfill(moto.client("s3"), BackfillScope(BUCKET, dt.date(2026, 1, 10), dt.date(2026, 1, 10),
                                                           prefix="elsewhere/"))
    assert [o.key for o in stray.objects] == [f"elsewhere/AWSLogs/{ACCOUNT_A}/vpcflowlogs/us-east-1/2026/01/10/"
                                              "stray.log.gz"]
