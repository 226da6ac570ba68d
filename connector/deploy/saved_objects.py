"""Saved objects into Kibana or OpenSearch Dashboards (the same two APIs): ``_bulk_get`` tells
which exist, ``_import`` sends those to create (and, with ``overwrite``, those to replace).

Objects that exist are kept unless ``overwrite``, so a second run changes nothing. The import
answers 200 even when some objects fail; every per-object error becomes one line naming it.
"""

from __future__ import annotations

from typing import Any

from connector.deploy.content_files import ContentObject
from connector.deploy.dashboards_connection import DashboardsConnection
from connector.deploy.report import Outcomes

BULK_GET = "/api/saved_objects/_bulk_get"
IMPORT = "/api/saved_objects/_import"


def install_saved_objects(
    connection: DashboardsConnection, objects: list[ContentObject], outcomes: Outcomes, *, overwrite: bool,
    file_name: str = "saved-objects.ndjson",
) -> None:
    """Create the missing objects (replace existing ones with ``overwrite``) and report each; in a
    dry run only ``_bulk_get`` is sent."""
    existing, unknown = _existing(connection, objects)
    chosen = [o for o in objects if (o.type, o.id) not in existing or overwrite]
    refused: dict[tuple[str, str], str] = {}
    renamed: dict[tuple[str, str], str] = {}
    if chosen and not outcomes.dry_run:
        answer = connection.answer(
            connection.request("POST", IMPORT, params={"overwrite": "true"} if overwrite else None,
                               files={"file": (file_name, b"".join(o.line + b"\n" for o in chosen),
                                               "application/ndjson")}),
            f"import saved objects ({len(chosen)})",
        )
        refused = {(str(e.get("type")), str(e.get("id"))): import_error_reason(e.get("error") or {})
                   for e in answer.get("errors") or []}
        renamed = {(str(r.get("type")), str(r.get("id"))): str(r["destinationId"])
                   for r in answer.get("successResults") or [] if r.get("destinationId")}
        known = {(o.type, o.id) for o in chosen}
        for error in answer.get("errors") or []:
            if (str(error.get("type")), str(error.get("id"))) not in known:
                outcomes.fail(f'{error.get("type")} {error.get("id")} "{error.get("title", "")}"',
                              import_error_reason(error.get("error") or {}))
    for obj in objects:
        key = (obj.type, obj.id)
        if key in refused:
            outcomes.fail(obj.label, refused[key])
        elif key in unknown and outcomes.dry_run:
            outcomes.fail(obj.label, f"cannot look it up: {unknown[key]}")
        elif key in existing:
            outcomes.add("overwrite" if overwrite else "keep", obj.label)
        else:
            outcomes.add("create", obj.label, f"(as {obj.type} {renamed[key]})" if key in renamed else "")


def _existing(
    connection: DashboardsConnection, objects: list[ContentObject]
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], str]]:
    """The (type, id) of the objects that exist already, and those that cannot be looked up (an
    unknown type, say) with the reason; the import then says why such an object fails."""
    if not objects:
        return set(), {}
    answer = connection.answer(
        connection.request("POST", BULK_GET, json=[{"type": o.type, "id": o.id} for o in objects]),
        "look up saved objects",
    )
    found: set[tuple[str, str]] = set()
    unknown: dict[tuple[str, str], str] = {}
    for asked, got in zip(objects, answer.get("saved_objects") or [], strict=False):
        error = got.get("error")
        if not error:
            found.add((asked.type, asked.id))
        elif error.get("statusCode") != 404:
            unknown[(asked.type, asked.id)] = str(error.get("message") or error.get("error"))
    return found, unknown


def import_error_reason(error: dict[str, Any]) -> str:
    """One object's import error as a sentence (the error types of the saved objects import API)."""
    kind = error.get("type")
    if kind == "conflict":
        other = f" (as {error['destinationId']})" if error.get("destinationId") else ""
        return f"conflict: the object exists already{other}; --overwrite replaces it"
    if kind == "ambiguous_conflict":
        ids = ", ".join(str(d.get("id")) for d in error.get("destinations") or [])
        return f"ambiguous conflict: several existing objects match ({ids})"
    if kind == "missing_references":
        refs = ", ".join(f"{r.get('type')} {r.get('id')}" for r in error.get("references") or [])
        return f"missing references: {refs}; import the objects it uses first"
    if kind == "unsupported_type":
        return "unsupported type: this version does not know the type (or its plugin is off)"
    message = error.get("message") or error.get("reason") or kind or "unknown error"
    status = f" (HTTP {error['statusCode']})" if error.get("statusCode") else ""
    return f"{message}{status}"
