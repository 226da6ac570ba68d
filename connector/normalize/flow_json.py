"""The flow-log fast path: complete records written straight to JSON text by one f-string.

Most flow records carry every field of their layout. For those, building nested dicts and
serializing them afterwards is the dominant cost; instead the spec is compiled into one JSON
f-string per layout, so a record is one string build in C. Anything
unusual (an absent ``-`` value, characters that need JSON escaping, an unknown action or
protocol, an unreadable number) returns ``None`` and takes the general path, which produces
the same document (the unit tests check the two paths agree field for field).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

_MAX_MEMOIZED = 4096


class TcpFlagNames:
    """Bitmask text -> list of flag names (or its JSON text, for the fast path), memoized: a few
    dozen distinct values exist. Raises ValueError for text that is not a number."""

    def __init__(self, names: dict[int, str]) -> None:
        self._names = sorted(names.items())
        self._lists: dict[str, list[str]] = {}
        self._texts: dict[str, str] = {}

    def __call__(self, text: str) -> list[str]:
        out = self._lists.get(text)
        if out is None:
            mask = int(text)
            out = [name for bit, name in self._names if mask & bit]
            if len(self._lists) >= _MAX_MEMOIZED:  # damaged input can hold any number
                self._lists.clear()
            self._lists[text] = out
        return out

    def json(self, text: str) -> str:
        """The names as JSON text."""
        out = self._texts.get(text)
        if out is None:
            out = json.dumps(self(text))
            if len(self._texts) >= _MAX_MEMOIZED:
                self._texts.clear()
            self._texts[text] = out
        return out


# How a value enters the template: quoted text, a number, JSON text computed per record, JSON
# text fixed at compile time, a whole "k":v entry, or text glued to the previous entry.
_TEXT, _NUMBER, _JSON, _CONST, _ENTRY, _SUFFIX = "text", "number", "json", "const", "entry", "suffix"
_RELATED_PAIR = "related-pair"
# The fields inside each pre-rendered piece (an unknown piece is taken to hold anything).
_PRERENDERED = {"__outcome": ("outcome", "type"), "__place": ("geo", "as")}
_COMMUNITY_ID = "community-id"  # base64 text after the literal "1:"


def generate_fast_mapper(spec: dict[str, Any], layout: tuple[str, ...], keep_original: bool,
                         view_paths: Sequence[str] | None = None, pruned: Sequence[str] = (),
                         marks: bool = False) -> str | None:
    """Source of ``map_batch(...)`` for ``layout`` (``None`` when the layout lacks the fields the
    fast path relies on, or cannot show a field in ``view_paths`` or leave out one in ``pruned``):
    it writes complete records as JSON with one f-string each and hands every other line, in
    order, to ``general(line, loc, eid)``.

    With ``view_paths`` (the fields filter rules read), each record's values of those fields go
    to ``decide(view, eid)`` as a flat ``{path: value}`` before any JSON is built; a record it
    names a rule for is counted in ``skipped`` and not written. ``pruned`` fields are left out
    of the template. With ``marks``, a record whose source or destination address
    ``marked_hit`` knows goes, written in full, to ``marked(text, eid, timestamp)`` instead (the
    threat-intel lane: enrich, then filter and prune the decoded document)."""
    names = set(layout)
    if not {"srcaddr", "dstaddr", "start"} <= names:
        return None
    fields: dict[str, Any] = spec["fields"]
    tree: dict[tuple[str, ...], list[tuple[str, str, str]]] = {(): []}

    def put(dotted: str, expr: str, how: str) -> None:
        parts = tuple(dotted.split("."))
        for depth in range(1, len(parts)):
            parent, child = parts[: depth - 1], parts[:depth]
            if child not in tree:
                tree[child] = []
                tree.setdefault(parent, []).append((parts[depth - 1], "", "child"))
        tree.setdefault(parts[:-1], []).append((parts[-1], expr, how))

    for dotted, value in spec["constants"].items():
        put(dotted, json.dumps(value), _CONST)

    code: list[str] = []
    emit = code.append
    locals_for = {"srcport": "sport", "dstport": "dport", "protocol": "proto"}
    has_action = False
    action_var = ""
    direction_field = None
    # Plain text fields are the only ones where "-" (absent) would pass a check below unnoticed.
    plain_text: list[int] = []
    for index, name in enumerate(layout):
        rule_spec = fields.get(name) or {"to": ["aws.vpcflow." + name.replace("-", "_")]}
        kind = rule_spec.get("type", "string")
        rule = rule_spec.get("rule")
        if kind == "string" and rule not in ("source_ip", "destination_ip", "protocol", "action", "tcp_flags",
                                             "flow_direction"):
            plain_text.append(index)
        value = f"v{index}"
        how = _TEXT
        if kind == "long":
            # The text goes into the JSON as it is, once it is a plain decimal (int() would
            # also take "+5", "5_0" or "007", which are not JSON numbers).
            emit(f"        if not v{index}.isdigit() or (v{index}[0] == '0' and v{index} != '0'):\n"
                 "            raise ValueError")
            if name in locals_for:
                emit(f"        {locals_for[name]} = int(v{index})")
                if name != "protocol":  # a port; the protocol is checked against its table below
                    emit(f"        if {locals_for[name]} > 65535:\n            raise ValueError")
            value, how = f"v{index}", _NUMBER
        elif kind == "epoch":
            emit(f"        t{index} = TS_GET(v{index}) or TS_CONVERT(v{index})")
            value = f"t{index}"
        for dotted in rule_spec["to"]:
            put(dotted, value, how)
        if rule in ("source_ip", "destination_ip"):
            side, local = ("source", "si") if rule == "source_ip" else ("destination", "di")
            emit(f"        {local} = ADDR_GET(v{index}) or ADDR_LOOKUP(v{index})")
            emit(f"        if {local} is None:\n            raise ValueError")
            put(f"{side}.ip", f"v{index}", _TEXT)
            put(side + ".__place", f"{local}[6]", _SUFFIX)
        elif rule == "protocol":
            emit(f"        proto = int(v{index})")
            emit(f"        transport = TRANSPORTS.get(v{index})")
            emit("        if transport is None:\n            raise ValueError")
            put("network.transport", "transport", _TEXT)
        elif rule == "tcp_flags":
            put("aws.vpcflow.tcp_flags_array", f"TCP_FLAGS_JSON(v{index})", _JSON)
        elif rule == "action":
            has_action = True
            action_var = f"v{index}"
            emit(f"        outcome = ACTION_JSON.get(v{index})")
            emit("        if outcome is None:\n            raise ValueError")
            put("event.__outcome", "outcome", _ENTRY)
        elif rule == "flow_direction":
            direction_field = index
    put("event.id", "eid", _TEXT)
    put("event.ingested", "ingested", _TEXT)
    if keep_original:
        put("event.original", "line", _TEXT)
    if not has_action:
        put("event.type", json.dumps(spec["default_event_type"]), _CONST)
    put("network.type", "si[1]", _TEXT)
    src_index, dst_index = layout.index("srcaddr"), layout.index("dstaddr")
    # The same address on both sides: related.ip holds it once (the general path's rule).
    emit(f"        if v{src_index} == v{dst_index}:\n            raise ValueError")
    put("related.__ip", f"v{src_index}", _RELATED_PAIR)
    tree[("related",)][-1] = ("ip", f"v{src_index}|v{dst_index}", _RELATED_PAIR)
    if direction_field is not None:
        emit(f"        direction = v{direction_field}")
        emit("        if direction != 'ingress' and direction != 'egress':\n            raise ValueError")
    else:
        emit("        direction = DIRECTIONS[si[3]][di[3]]")
    put("network.direction", "direction", _TEXT)
    if {"protocol", "srcport", "dstport"} <= names:
        emit("        if proto != 6 and proto != 17 and proto != 132:\n            raise ValueError")
        # Community ID v1 inlined for tcp/udp/sctp between addresses of one family (the rest
        # takes the general path, which calls connector.enrich.community_id).
        # One struct packs the whole hashed message (seed 0, addresses, protocol, pad, ports).
        emit("        a = si[2]\n        b = di[2]")
        emit("        if len(a) != len(b):\n            raise ValueError")
        emit("        if a < b or (a == b and sport <= dport):\n"
             "            h = SHA1(CID_MESSAGE[len(a)](a, b, proto, sport, dport)).digest()\n"
             "        else:\n"
             "            h = SHA1(CID_MESSAGE[len(a)](b, a, proto, dport, sport)).digest()")
        emit("        cid = B64(h, newline=False).decode()")
        put("network.community_id", "cid", _COMMUNITY_ID)
    else:
        return None

    view = _view_expressions(tree, view_paths, action_var) if view_paths is not None else {}
    if view is None:
        return None

    pieces: list[str] = []  # alternating constant JSON text and names of locals
    code.append("        # values the template needs that are not plain locals")
    local_of: dict[str, str] = {}

    def value_name(expr: str) -> str:
        if expr.isidentifier():
            return expr
        if expr not in local_of:
            local_of[expr] = f"e{len(local_of)}"
            code.append(f"        {local_of[expr]} = {expr}")
        return local_of[expr]

    def text(piece: str) -> None:
        pieces.append(piece.replace("\\", "\\\\").replace("'", "\\'").replace("{", "{{").replace("}", "}}"))

    def substitute(expr: str) -> None:
        pieces.append("{" + value_name(expr) + "}")

    def render(path: tuple[str, ...]) -> None:
        text("{")
        first = True
        for key, expr, how in tree[path]:
            if how == _SUFFIX:
                substitute(expr)
                continue
            if not first:
                text(",")
            first = False
            if how == "child":
                text(json.dumps(key) + ":")
                render((*path, key))
            elif how == _ENTRY:
                substitute(expr)
            elif how == _CONST:
                text(json.dumps(key) + ":" + expr)
            elif how == _RELATED_PAIR:
                first_ip, second_ip = expr.split("|")
                text(json.dumps(key) + ':["')
                substitute(first_ip)
                text('","')
                substitute(second_ip)
                text('"]')
            elif how == _COMMUNITY_ID:
                text(json.dumps(key) + ':"1:')
                substitute(expr)
                text('"')
            elif how == _TEXT:
                text(json.dumps(key) + ':"')
                substitute(expr)
                text('"')
            else:  # number or JSON text
                text(json.dumps(key) + ":")
                substitute(expr)
        text("}")

    render(())
    timestamp = next(expr for key, expr, how in tree[()] if key == "@timestamp")
    full = "".join(pieces)
    if pruned:
        if not _prune_tree(tree, pruned):
            return None
        pieces.clear()
        render(())
    unpack = ", ".join(f"v{i}" for i in range(len(layout)))
    absent_checks = "".join(f" or f[{i}] == '-'" for i in plain_text)
    lines = [
        "def map_batch(lines, locs, record_ids, prefix, ingested, clean, encoded, ids, timestamps, general,",
        "              decide=None, skipped=None, marked=None, marked_hit=None, unlisted=None):",
        "    put_encoded, put_id, put_timestamp = encoded.append, ids.append, timestamps.append",
        "    if record_ids is None:",
        "        eids = map(prefix.__add__, map(str, locs))",
        "    else:",
        "        eids = [record_ids[loc - 1] for loc in locs]",
        "    for line, loc, eid in zip(lines, locs, eids):",
        "        if not clean and NEEDS_ESCAPING(line):",
        "            general(line, loc, eid)",
        "            continue",
        "        f = line.split()",
        f"        if len(f) != {len(layout)}{absent_checks}:",
        "            general(line, loc, eid)",
        "            continue",
        "        try:",
        f"            {unpack}{',' if len(layout) == 1 else ''} = f",
        *("    " + line for chunk in code for line in chunk.split("\n")),
        "        except ValueError:",
        "            general(line, loc, eid)",
        "            continue",
        *([] if not marks else [
            # Most addresses are in the set of those no indicator lists: a membership test, no call.
            f"        if not ((v{src_index} in unlisted or not marked_hit(v{src_index})) and "
            f"(v{dst_index} in unlisted or not marked_hit(v{dst_index}))):",
            f"            marked(f'{full}'.encode(), eid, {timestamp})",
            "            continue"]),
        *([] if view_paths is None else [
            "        rule = decide({" + ", ".join(f"{path!r}: {expr}" for path, expr in view.items()) + "}, eid)",
            "        if rule is not None:",
            "            skipped[rule] += 1",
            "            continue"]),
        "        put_encoded(f'" + "".join(pieces) + "'.encode())",
        "        put_id(eid)",
        f"        put_timestamp({timestamp})",
    ]
    return "\n".join(lines) + "\n"


Tree = dict[tuple[str, ...], list[tuple[str, str, str]]]


def _view_expressions(tree: Tree, paths: Sequence[str], action_var: str) -> dict[str, str] | None:
    """Python expressions of the values of ``paths`` in a fast-path record (``None`` when one is
    not a plain value of the template, e.g. a GeoIP field inside a pre-rendered piece, or a
    whole object). A path the template cannot hold is absent from the view, as from the document."""
    out: dict[str, str] = {}
    for path in paths:
        parts = tuple(path.split("."))
        expr = None
        if action_var and path == "event.outcome":
            expr = f"ACTIONS[{action_var}][0]"
        elif action_var and path == "event.type":
            expr = f"ACTIONS[{action_var}][1]"
        elif parts in tree:
            return None  # an object: its test needs the document
        else:
            for key, value, how in tree.get(parts[:-1], ()):
                if key != parts[-1]:
                    continue
                if how == _TEXT:
                    expr = value
                elif how == _NUMBER:
                    expr = f"int({value})"
                elif how == _CONST:
                    expr = repr(json.loads(value))
                elif how == _JSON:
                    expr = f"json_loads({value})"
                elif how == _RELATED_PAIR:
                    first, second = value.split("|")
                    expr = f"[{first}, {second}]"
                elif how == _COMMUNITY_ID:
                    expr = f"'1:' + {value}"
                else:
                    return None
        if expr is None:
            if _maybe_prerendered(tree, parts):
                return None
            continue
        out[path] = expr
    return out


def _maybe_prerendered(tree: Tree, parts: tuple[str, ...]) -> bool:
    """Whether a field that is no template leaf may still be written, inside a piece rendered
    before (the outcome and type of an action, the GeoIP fields of an address)."""
    for depth in range(len(parts) - 1, -1, -1):
        node = tree.get(parts[:depth])
        if node is not None:
            return any(how in (_ENTRY, _SUFFIX) and parts[depth] in _PRERENDERED.get(key, (parts[depth],))
                       for key, _value, how in node)
    return False


def _prune_tree(tree: Tree, paths: Sequence[str]) -> bool:
    """Leave ``paths`` out of the template; False when one cannot be left out by itself (a value
    inside a pre-rendered piece, such as ``event.outcome``), so that the caller prunes documents."""
    for path in paths:
        parts = tuple(path.split("."))
        entries = tree.get(parts[:-1])
        if entries is None or not any(key == parts[-1] for key, _value, _how in entries):
            if _maybe_prerendered(tree, parts):
                return False
            continue  # not written: nothing to leave out
        tree[parts[:-1]] = [e for e in entries if e[0] != parts[-1]]
        for sub in [p for p in tree if p[:len(parts)] == parts]:
            del tree[sub]
        # A parent left empty goes too, as pruning a document removes it.
        parent = parts[:-1]
        while parent and not tree.get(parent):
            tree.pop(parent, None)
            grand = parent[:-1]
            tree[grand] = [e for e in tree.get(grand, []) if not (e[0] == parent[-1] and e[2] == "child")]
            parent = grand
    return True


def needs_escaping(text: str) -> bool:
    """True when flow-log text holds anything JSON would have to escape (the fast path's precondition).
    orjson's escape scan is vectorized: for a block of lines it is ten times faster than a Python
    character check. Non-ASCII text (never in flow logs) takes the general path too."""
    return not text.isascii() or len(orjson.dumps(text)) != len(text) + 2
