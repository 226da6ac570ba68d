"""Sigma semantics in the real servers: string values match case-insensitively (a rule written with
'NO' finds CloudTrail's 'No'), a key inside a free-form object matches on the object's text, and a
regular expression without the `i` flag stays case-sensitive. The bundled rules' findings on the
labeled day are in test_detections_labeled.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.demo.estate import DemoManifest
from connector.demo.labels import CONSOLE_LOGIN_WITHOUT_MFA
from connector.detections import convert
from tests.search.conftest import LABELED
from tests.search.detection_runner import hits, single_event_findings
from tests.servers.search_cluster import SearchCluster

pytestmark = pytest.mark.integration
CLOUDTRAIL = f"logs-aws_connector.cloudtrail-{LABELED}"

SHOUTED = """title: Console Login Without MFA, written in capitals
id: 11111111-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: SIGNIN.AMAZONAWS.COM
    eventName: CONSOLELOGIN
    responseElements.ConsoleLogin: SUCCESS
    additionalEventData.MFAUsed: 'NO'
  condition: selection
level: medium
"""

CASED = """title: Cased and regular-expression matches stay exact
id: 11111111-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
detection:
  cased:
    eventName|cased: CONSOLELOGIN
  regex:
    eventName|re: 'CONSOLE.*'
  condition: cased or regex
level: low
"""

LOWER_REGEX = """title: A case-insensitive regular expression
id: 11111111-0000-4000-8000-000000000003
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName|re|i: 'CONSOLE.*'
  condition: selection
level: low
"""


def _query(tmp_path: Path, text: str) -> str:
    rule = tmp_path / "rule.yml"
    rule.write_text(text)
    conversion = convert("lucene", [rule])
    assert conversion.refused == []
    (detection,) = conversion.detections
    return detection.query


def test_values_written_in_capitals_find_what_cloudtrail_writes(
    labeled_day: tuple[SearchCluster, DemoManifest], tmp_path: Path,
) -> None:
    cluster, manifest = labeled_day
    query = _query(tmp_path, SHOUTED)
    found = single_event_findings(cluster.url, CLOUDTRAIL, query, "event.id")
    assert found == manifest.labels[CONSOLE_LOGIN_WITHOUT_MFA].expected != frozenset()


def test_cased_and_plain_regular_expressions_stay_case_sensitive(
    labeled_day: tuple[SearchCluster, DemoManifest], tmp_path: Path,
) -> None:
    cluster, _ = labeled_day
    assert hits(cluster.url, CLOUDTRAIL, _query(tmp_path, CASED)) == 0
    logins = hits(cluster.url, CLOUDTRAIL, "event.action:ConsoleLogin")
    assert logins > 20
    assert hits(cluster.url, CLOUDTRAIL, _query(tmp_path, LOWER_REGEX)) == logins


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("lucene", "event.dataset:aws.cloudtrail AND (event.action.caseless:ConsoleLogin AND"
                   " aws.cloudtrail.user_identity.type.caseless:Root)"),
        ("splunk", 'event.dataset="aws.cloudtrail" event.action="ConsoleLogin"'
                   ' aws.cloudtrail.user_identity.type="Root"'),
        ("esql", "from logs-aws_connector.cloudtrail-* metadata _id, _index, _version"
                 ' | where event.dataset=="aws.cloudtrail" and TO_LOWER(event.action)=="consolelogin"'
                 ' and TO_LOWER(aws.cloudtrail.user_identity.type)=="root"'),
        ("eql", 'any where event.dataset:"aws.cloudtrail" and (event.action:"ConsoleLogin" and'
                ' aws.cloudtrail.user_identity.type:"Root")'),
    ],
)
def test_each_query_language_matches_case_insensitively(backend: str, expected: str) -> None:
    by_title = {d.title: d.query for d in convert(backend).detections}
    assert by_title["AWS Root Account Console Login"] == expected
