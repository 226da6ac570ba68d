"""Elastic Security detection rules into Kibana: ``GET .../rules?rule_id=`` tells which exist,
``rules/_import`` sends those to create (all of them, replacing, with ``overwrite``).

The import answers 200 with ``success: false`` and one error per refused rule; each becomes a
line naming the rule and Kibana's reason, and the rest are counted as imported.
"""

from __future__ import annotations

from typing import Any

import orjson

from connector.deploy.content_files import ContentObject
from connector.deploy.dashboards_connection import DashboardsConnection
from connector.deploy.report import Outcomes

RULES = "/api/detection_engine/rules"
IMPORT = "/api/detection_engine/rules/_import"


def install_detection_rules(
    connection: DashboardsConnection, rules: list[ContentObject], outcomes: Outcomes, *, overwrite: bool
) -> None:
    """Create the missing rules (replace existing ones with ``overwrite``) and report each; in a dry
    run only the look-ups are sent."""
    existing = {rule.id for rule in rules if _exists(connection, rule.id)}
    chosen = [r for r in rules if r.id not in existing or overwrite]
    refused: dict[str, str] = {}
    if chosen and not outcomes.dry_run:
        answer = connection.answer(
            connection.request("POST", IMPORT, params={"overwrite": "true"} if overwrite else None,
                               files={"file": ("detection-rules.ndjson", b"".join(r.line + b"\n" for r in chosen),
                                               "application/ndjson")}),
            f"import detection rules ({len(chosen)})",
        )
        known = {r.id for r in chosen}
        for error in answer.get("errors") or []:
            rule_id = str(error.get("rule_id") or error.get("id") or "?")
            if rule_id in known:
                refused[rule_id] = _reason(error)
            else:
                outcomes.fail(f"rule {rule_id}", _reason(error))
        for key, what in (("exceptions_errors", "exception list"), ("action_connectors_errors", "connector")):
            for error in answer.get(key) or []:
                outcomes.fail(f"{what} {error.get('list_id') or error.get('id') or '?'}", _reason(error))
    for rule in rules:
        if rule.id in refused:
            outcomes.fail(rule.label, refused[rule.id])
        elif rule.id in existing:
            outcomes.add("overwrite" if overwrite else "keep", rule.label)
        else:
            outcomes.add("create", rule.label)


def _exists(connection: DashboardsConnection, rule_id: str) -> bool:
    resp = connection.request("GET", RULES, params={"rule_id": rule_id})
    # Kibana's "rule_id: ... not found" is a JSON body; any other 404 means a wrong URL.
    if resp.status_code == 404 and _is_json_object(resp.content):
        return False
    connection.answer(resp, f"look up detection rule {rule_id}")
    return True


def _is_json_object(content: bytes) -> bool:
    try:
        return isinstance(orjson.loads(content), dict)
    except orjson.JSONDecodeError:
        return False


def _reason(error: dict[str, Any]) -> str:
    detail = error.get("error") or {}
    message = detail.get("message") or "refused without a reason"
    status = detail.get("status_code")
    return f"{message} (HTTP {status})" if status else str(message)
