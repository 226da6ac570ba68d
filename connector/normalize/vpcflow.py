"""Flow-log lines -> ECS documents through a function generated per field layout.

The spec (``mappings/vpcflow.yaml``) says where each field goes; for each layout met (an S3
header, a configured custom format, a documented default) it is compiled once into plain
Python with fixed column indexes, so the per-record path does no spec lookups at all.
"""

from __future__ import annotations

import binascii
import hashlib
import struct
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from connector.enrich.addresses import AddressBook
from connector.enrich.community_id import community_id
from connector.formats.base import RawBatch
from connector.normalize.flow_json import TcpFlagNames, generate_fast_mapper, needs_escaping
from connector.normalize.hotloop import collector_paused
from connector.normalize.output import Normalized
from connector.normalize.specs import load_spec
from connector.normalize.timestamps import EpochFormatter, utc_now_iso
from connector.sinks.base import DeadLetter
from connector.transform.filters import DatasetFilters
from connector.transform.prune import compile_pruner
from connector.transform.stage import Marker, settle

FlowMapper = Callable[[str, str, str], dict[str, Any]]
# map_batch(lines, locs, record_ids, prefix, ingested, clean, encoded, ids, timestamps, general)
FastFlowMapper = Callable[..., None]
DATASET = "aws.vpcflow"
# Compiled mapping functions kept (about 28 KB each); an estate has a handful of layouts.
MAX_LAYOUTS = 256

_RULE_LOCALS = {"srcport": "sport", "dstport": "dport"}


def canonical_field(name: str) -> str:
    """AWS writes ``log-status`` in headers and ``log_status`` in Parquet; use the first."""
    return name.strip().lower().replace("_", "-")


def record_id_prefix(origin: str) -> str:
    """Stable prefix of flow-record ids: a short hash of the object key or log stream."""
    # surrogatepass: a file name that is not UTF-8 (decoded with surrogate escapes) still has an id.
    return hashlib.blake2b(origin.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest() + "-"


def perimeter_direction(src_public: bool, dst_public: bool) -> str:
    """ECS direction from address classes, seen from the VPC's perimeter."""
    if src_public:
        return "external" if dst_public else "inbound"
    return "outbound" if dst_public else "internal"


class FlowNormalizer:
    """Compiles and caches one mapping function per flow-log layout."""

    def __init__(self, addresses: AddressBook, keep_original: bool = False,
                 filters: DatasetFilters | None = None, marker: Marker | None = None) -> None:
        self._spec = load_spec("vpcflow")
        self._marker = marker  # threat intel, applied before the rules (which may read threat.*)
        # Filter rules and pruning, applied here (before any JSON is written on the fast path)
        # rather than to decoded documents afterwards.
        self._filters = filters
        self._pruner = compile_pruner(filters.prune) if filters is not None and filters.prune else None
        self._filtered_fast: dict[tuple[str, ...], bool] = {}
        self._addresses = addresses
        self._keep_original = keep_original
        self._timestamps = EpochFormatter()
        self._compiled: dict[tuple[str, ...], FlowMapper] = {}
        self._fast: dict[tuple[str, ...], FastFlowMapper | None] = {}
        actions = self._spec["actions"]
        tcp_flags = TcpFlagNames(self._spec["tcp_flags"])
        self._globals: dict[str, Any] = {
            "ADDR_GET": addresses.get,
            "ADDR_LOOKUP": addresses.lookup,
            "TS_GET": self._timestamps.get,
            "TS_CONVERT": self._timestamps.convert,
            "TRANSPORTS": {str(k): v for k, v in self._spec["transports"].items()},
            "TCP_FLAGS": tcp_flags,
            "ACTIONS": {k: (v["outcome"], list(v["type"])) for k, v in actions.items()},
            "DEFAULT_TYPE": list(self._spec["default_event_type"]),
            "COMMUNITY_ID": community_id,
            "DIRECTION": perimeter_direction,
            # The JSON writer's pre-rendered pieces.
            "ACTION_JSON": {k: orjson.dumps({"outcome": v["outcome"], "type": list(v["type"])})[1:-1].decode()
                            for k, v in actions.items()},
            "TCP_FLAGS_JSON": tcp_flags.json,
            # [source public][destination public] -> direction, for the JSON writer.
            "DIRECTIONS": ((perimeter_direction(False, False), perimeter_direction(False, True)),
                           (perimeter_direction(True, False), perimeter_direction(True, True))),
            "NEEDS_ESCAPING": needs_escaping,
            "SHA1": hashlib.sha1,
            # Community ID v1's message: seed 0, the two addresses, protocol, a pad byte, two ports.
            "CID_MESSAGE": {4: struct.Struct(">2x4s4sBxHH").pack, 16: struct.Struct(">2x16s16sBxHH").pack},
            "B64": binascii.b2a_base64,
            "json_loads": orjson.loads,
        }

    def fast_mapper(self, layout: tuple[str, ...]) -> FastFlowMapper | None:
        """The JSON-writing function for complete records of ``layout`` (``None`` when the layout
        lacks what it needs); it returns ``None`` for a record it leaves to ``mapper``."""
        if layout not in self._fast:
            if len(self._fast) >= MAX_LAYOUTS:  # headers come from the input: any number can arrive
                self._fast.clear()
                self._filtered_fast.clear()
            filters = self._filters
            source = None
            if filters is not None:
                source = generate_fast_mapper(self._spec, layout, self._keep_original,
                                              filters.paths if filters.rules else None, filters.prune,
                                              marks=self._marker is not None)
            # Filters the template cannot apply (a GeoIP field, say) run on decoded documents.
            self._filtered_fast[layout] = source is not None
            if source is None:
                source = generate_fast_mapper(self._spec, layout, self._keep_original)
            fn: FastFlowMapper | None = None
            if source is not None:
                namespace = dict(self._globals)
                exec(compile(source, f"<fast flow mapper {len(layout)} fields>", "exec"), namespace)
                fn = namespace["map_batch"]
                fn.__doc__ = source
            self._fast[layout] = fn
        return self._fast[layout]

    def mapper(self, layout: tuple[str, ...]) -> FlowMapper:
        """The compiled mapping function for records whose columns are ``layout``."""
        fn = self._compiled.get(layout)
        if fn is None:
            if len(self._compiled) >= MAX_LAYOUTS:
                self._compiled.clear()
            fn = self._compile(layout)
            self._compiled[layout] = fn
        return fn

    def normalize(self, raw: RawBatch, origin: str, record_ids: Sequence[str] | None = None) -> Normalized:
        """Map every line of ``raw``; unreadable lines become dead letters naming line and reason.
        ``record_ids`` (one per line of the unit) replaces the line-number ids when given."""
        mapper = self.mapper(raw.layout)
        fast = self.fast_mapper(raw.layout)
        filters, pruner, marker = self._filters, self._pruner, self._marker
        in_template = fast is not None and self._filtered_fast.get(raw.layout, False)
        if fast is not None and not in_template:
            filters = pruner = marker = None  # applied to the decoded documents below
        prefix = record_id_prefix(origin)
        ingested = utc_now_iso()
        out = Normalized()
        encoded, ids, timestamps = out.encoded, out.ids, out.timestamps
        skipped = out.skipped
        dumps = orjson.dumps

        rules = filters.rules if filters is not None else ()

        def finish(text: bytes, eid: str, timestamp: str) -> None:
            """Marks, rules and pruning on one decoded document (the general path, the
            threat-intel lane), then written."""
            sent, rule = settle(text, eid, rules, pruner, marker)
            if sent is None:
                skipped[rule or ""] += 1
                return
            encoded.append(sent)
            ids.append(eid)
            timestamps.append(timestamp)

        def general(line: str, loc: int, eid: str) -> None:
            try:
                doc = mapper(line, eid, ingested)
                # Serialized at once, while the document is still in cache (a number beyond 64 bits fails here).
                text = dumps(doc)
            except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
                out.dead.append(DeadLetter(line, f"unreadable flow record: {exc}", origin, f"line {loc}"))
                return
            if filters is not None or marker is not None:
                finish(text, eid, doc["@timestamp"])  # decoded again: GeoIP objects are pre-serialized pieces
                return
            encoded.append(text)
            ids.append(eid)
            timestamps.append(doc["@timestamp"])

        with collector_paused():
            if fast is not None:
                hit = marker.address_listed if marker is not None else None
                fast(raw.records, raw.locations, record_ids, prefix, ingested, raw.clean, encoded, ids, timestamps,
                     general, filters.skipped_by_view if filters is not None and filters.rules else None, skipped,
                     finish, hit, marker.unlisted_addresses if marker is not None else None)
                if self._filters is not None and not in_template:
                    self._filter_decoded(out)
            else:
                for line, loc in zip(raw.records, raw.locations, strict=True):
                    general(line, loc, prefix + str(loc) if record_ids is None else record_ids[loc - 1])
        return out

    def _filter_decoded(self, out: Normalized) -> None:
        """Filters and pruning on decoded documents, for a layout whose template cannot apply them."""
        filters, pruner = self._filters, self._pruner
        assert filters is not None
        keep_encoded: list[bytes] = []
        keep_ids: list[str] = []
        keep_timestamps: list[str] = []
        for text, eid, ts in zip(out.encoded, out.ids, out.timestamps, strict=True):
            sent, rule = settle(text, eid, filters.rules, pruner, self._marker)
            if sent is None:
                out.skipped[rule or ""] += 1
                continue
            keep_encoded.append(sent)
            keep_ids.append(eid)
            keep_timestamps.append(ts)
        out.encoded[:], out.ids[:], out.timestamps[:] = keep_encoded, keep_ids, keep_timestamps

    # -- compilation -------------------------------------------------------------------------

    def _compile(self, layout: tuple[str, ...]) -> FlowMapper:
        source = self._generate(layout)
        namespace = dict(self._globals)
        exec(compile(source, f"<flow mapper {len(layout)} fields>", "exec"), namespace)
        fn: FlowMapper = namespace["map_flow"]
        fn.__doc__ = source  # kept for debugging: print(normalizer.mapper(layout).__doc__)
        return fn

    def _generate(self, layout: tuple[str, ...]) -> str:
        fields: dict[str, Any] = self._spec["fields"]
        constants: dict[str, Any] = dict(self._spec["constants"])
        containers: dict[tuple[str, ...], str] = {(): "doc"}

        def container(path: tuple[str, ...]) -> str:
            for depth in range(1, len(path) + 1):
                sub = path[:depth]
                if sub not in containers:
                    name = "c_" + "_".join(p.replace("@", "at_").replace("-", "_") for p in sub)
                    if not name.isidentifier() or name in containers.values():
                        # A header names a field whose text is no Python name, or two names clash.
                        name = f"c{len(containers)}"
                    containers[sub] = name
            return containers[path]

        def target(dotted: str) -> tuple[str, str]:
            parts = tuple(dotted.split("."))
            return container(parts[:-1]), parts[-1]

        for dotted_path in ("event", "source", "destination", "network", "related", "aws.vpcflow"):
            container(tuple(dotted_path.split(".")))
        init: dict[str, dict[str, str]] = {}
        for dotted, value in constants.items():
            var, key = target(dotted)
            const_name = "K_" + dotted.replace(".", "_").replace("@", "at_")
            self._globals[const_name] = value
            init.setdefault(var, {})[key] = const_name

        body: list[str] = []
        emit = body.append
        width = len(layout)
        emit("    f = line.split()")
        emit(f"    if len(f) != {width}:")
        emit(f"        raise ValueError('expected {width} fields, found ' + str(len(f)))")
        emit("    si = di = proto = sport = dport = None")
        emit("    direction = None")
        for index, name in enumerate(layout):
            spec = fields.get(name) or {"to": ["aws.vpcflow." + name.replace("-", "_")]}
            kind = spec.get("type", "string")
            rule = spec.get("rule")
            emit(f"    v = f[{index}]")
            emit("    if v != '-':")
            if kind == "long":
                emit(f"        try:\n            x = int(v)\n        except ValueError:\n"
                     f"            raise ValueError({name!r} + ' is not a number: ' + repr(v)) from None")
            elif kind == "epoch":
                emit("        x = TS_GET(v) or TS_CONVERT(v)")
            value = "v" if kind == "string" else "x"
            for dotted in spec["to"]:
                var, key = target(dotted)
                emit(f"        {var}[{key!r}] = {value}")
            if name in _RULE_LOCALS:
                emit(f"        if not 0 <= {value} <= 65535:")
                emit(f"            raise ValueError({name!r} + ' is out of range (0-65535): ' + repr(v))")
                emit(f"        {_RULE_LOCALS[name]} = {value}")
            if rule in ("source_ip", "destination_ip"):
                side, local = ("source", "si") if rule == "source_ip" else ("destination", "di")
                var = container((side,))
                emit(f"        {local} = ADDR_GET(v) or ADDR_LOOKUP(v)")
                emit(f"        if {local} is None:")
                emit(f"            raise ValueError({name!r} + ' is not an IP address: ' + repr(v))")
                emit(f"        {var}['ip'] = v")
                emit(f"        if {local}[4] is not None:")
                emit(f"            {var}['geo'] = {local}[4]")
                emit(f"        if {local}[5] is not None:")
                emit(f"            {var}['as'] = {local}[5]")
            elif rule == "protocol":
                var = container(("network",))
                emit("        proto = int(v)")
                emit("        if not 0 <= proto <= 255:")
                emit(f"            raise ValueError({name!r} + ' is out of range (0-255): ' + repr(v))")
                emit("        t = TRANSPORTS.get(v)")
                emit("        if t is not None:")
                emit(f"            {var}['transport'] = t")
            elif rule == "tcp_flags":
                var = container(("aws", "vpcflow"))
                emit(f"        {var}['tcp_flags_array'] = TCP_FLAGS(v)")
            elif rule == "action":
                var = container(("event",))
                emit("        a = ACTIONS.get(v)")
                emit("        if a is not None:")
                emit(f"            {var}['outcome'] = a[0]")
                emit(f"            {var}['type'] = a[1]")
            elif rule == "flow_direction":
                emit("        direction = v")
        ev, net, rel = container(("event",)), container(("network",)), container(("related",))
        emit(f"    {ev}['id'] = eid")
        emit(f"    {ev}['ingested'] = ingested")
        if self._keep_original:
            emit(f"    {ev}['original'] = line")
        emit(f"    if 'type' not in {ev}:")
        emit(f"        {ev}['type'] = DEFAULT_TYPE")
        emit("    if si is not None:")
        emit(f"        {net}['type'] = si[1]")
        emit("        if di is not None:")
        emit(f"            {rel}['ip'] = [si[0], di[0]] if si[0] != di[0] else [si[0]]")
        emit("            if direction is None:")
        emit("                direction = DIRECTION(si[3], di[3])")
        emit("            if proto is not None and (sport is not None or (proto != 6 and proto != 17)):")
        emit(f"                {net}['community_id'] = COMMUNITY_ID(si[2], di[2], proto, sport or 0, dport or 0)")
        emit("        else:")
        emit(f"            {rel}['ip'] = [si[0]]")
        emit("    elif di is not None:")
        emit(f"        {net}['type'] = di[1]")
        emit(f"        {rel}['ip'] = [di[0]]")
        emit("    if direction is not None:")
        emit(f"        {net}['direction'] = direction")
        emit("    if '@timestamp' not in doc:")
        emit(f"        doc['@timestamp'] = {ev}.get('end') or ingested")
        # Attach non-empty containers bottom-up so absent values leave no empty objects.
        for path in sorted(containers, key=len, reverse=True):
            if not path:
                continue
            parent = containers[path[:-1]]
            emit(f"    if {containers[path]}:")
            emit(f"        {parent}[{path[-1]!r}] = {containers[path]}")
        emit("    return doc")

        head = ["def map_flow(line, eid, ingested):"]
        for _path, var in sorted(containers.items(), key=lambda kv: len(kv[0])):
            items = ", ".join(f"{k!r}: {v}" for k, v in init.get(var, {}).items())
            head.append(f"    {var} = {{{items}}}")
        return "\n".join(head + body) + "\n"
