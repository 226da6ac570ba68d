"""A test on a document's serialized bytes that rules out a match without decoding it.

Decoding, enriching and re-encoding a document costs tens of microseconds, several times what
normalizing a flow record costs. So the bytes are searched for the values ``enrich`` would look
at, and only documents with a listed value are decoded. The answer errs one way only: ``False`` means
certainly no match; ``True`` means decode and look.

What makes it sound, given that the bytes are ``orjson`` output (compact, keys unique, ``"``
inside strings always escaped, so ``"key":`` found in the bytes is always a real key):

- Addresses. Every document this code base writes lists all its addresses in ``related.ip`` (the
  rule of ``normalize/flow_json.py``, ``vpcflow.py`` and ``cloudtrail.py``, which this test relies
  on: ``source.ip`` and the other address fields are not searched for themselves). A flow
  document ends with ``"related":{"ip":["a","b"]}}``; when the bytes end that way and both
  elements are known address text (hex digits, dots, colons: nothing that could hide a quote or
  a bracket), that array is the top-level ``related.ip`` (the last ``}`` closes the document, the
  one before it ``related``): two set lookups decide. In any other document the ``ip`` array of
  every ``related`` object is read, at any depth, so a look-alike nested in a CloudTrail request
  parameter adds candidates but cannot hide the real ``related.ip``.
- Host names (only when a feed lists domains). Every string value of a key named like a host-name
  field of ``fields.py`` (``"address":"…"``, ``"server_name":"…"``) is checked, at any depth.
  Flow documents carry no host names (their ``*.address`` is the IP), so a document whose
  top-level ``event.dataset`` is ``aws.vpcflow`` skips this scan.
"""

from __future__ import annotations

from connector.threat_intel.fields import ADDRESS_FIELDS, HOST_FIELDS, RELATED_IP, key_names
from connector.threat_intel.index import IndicatorIndex

_NO, _YES, _NOT_ADDRESS = 0, 1, 2
_TAIL_TWO = b'"related":{"ip":['
# The tail that holds ``"related":{"ip":["A","B"]}}`` for two full-length IPv6 addresses (103 bytes);
# only it is split, so the rest of the document is neither copied nor read.
_TAIL_REACH = 128
_TAIL_ONE = b'"related":{'
_RELATED_KEY = f'"{RELATED_IP[0]}":{{'.encode()  # b'"related":{'
_IP_ARRAY_KEY = f'"{RELATED_IP[1]}":['.encode()  # b'"ip":['
_HOST_KEYS = tuple(f'"{name}":"'.encode() for name in key_names(*ADDRESS_FIELDS, *HOST_FIELDS))
FLOW_DATASET = "aws.vpcflow"
_FLOW_HEAD = b'{"event":{'
# How the flow fast path (normalize/flow_json.py) starts every document: the common case in one test.
_FLOW_FAST_HEAD = b'{"event":{"kind":"event","category":["network"],"dataset":"aws.vpcflow"'
_FLOW_DATASET = b'"dataset":"aws.vpcflow"'


class DocumentPrefilter:
    """``might_match`` for one index; caches a verdict per address text and per host name."""

    def __init__(self, index: IndicatorIndex, max_cached: int = 131_072) -> None:
        self._index = index
        self._addresses = index.has_addresses
        self._hosts = index.has_domains
        self._max = max_cached
        # Address texts known not to be listed (the common answer, and a set is the cheapest test
        # Python has), and the other answers (listed, not an address).
        self._clean: set[bytes] = set()
        self._ip_verdicts: dict[bytes, int] = {}
        self._host_verdicts: dict[bytes, bool] = {}

    def might_match(self, encoded: bytes) -> bool:
        """False only when no address or host name in the document is listed by any feed."""
        if not self._addresses:
            return self._check(encoded, None)
        # The flow document's tail in one C call: its last four quotes split off
        # ``…"related":{"ip":[`` "A" "," "B" "]}}"; two set lookups (known not listed) decide.
        parts = encoded[-_TAIL_REACH:].rsplit(b'"', 4)
        if (len(parts) == 5 and parts[2] == b"," and parts[4] == b"]}}" and parts[0].endswith(_TAIL_TWO)
                and parts[1] in self._clean and parts[3] in self._clean
                and (not self._hosts or encoded.startswith(_FLOW_FAST_HEAD))):
            return False
        return self._check(encoded, parts)

    def candidates(self, encoded: list[bytes], dataset: str | None = None) -> list[int]:
        """Positions of the documents ``might_match`` lets through. Its common case (a flow document
        whose two addresses are known not to be listed) is inlined in the loop. ``dataset``, when
        the caller knows it (``NormalizedChunk.dataset``), spares flow documents the test that
        they are flow documents."""
        flows = dataset == FLOW_DATASET
        hosts = self._hosts and not flows
        check = self._check_addresses if flows else self._check
        if not self._addresses:
            return [position for position, data in enumerate(encoded) if hosts and check(data, None)]
        out = []
        clean = self._clean
        reach, tail_two, flow_head = _TAIL_REACH, _TAIL_TWO, _FLOW_FAST_HEAD
        for position, data in enumerate(encoded):
            parts = data[-reach:].rsplit(b'"', 4)  # as in might_match
            if (len(parts) == 5 and parts[2] == b"," and parts[4] == b"]}}" and parts[0].endswith(tail_two)
                    and parts[1] in clean and parts[3] in clean and (not hosts or data.startswith(flow_head))):
                continue
            if check(data, parts):
                out.append(position)
        return out

    def _check(self, encoded: bytes, parts: list[bytes] | None) -> bool:
        """``might_match`` given the split tail (``None`` when no feed lists addresses)."""
        if parts is not None and self._check_addresses(encoded, parts):
            return True
        if self._hosts and not (encoded.startswith(_FLOW_FAST_HEAD) or _is_flow(encoded)):
            return self._scan_hosts(encoded)
        return False

    def _check_addresses(self, encoded: bytes, parts: list[bytes] | None) -> bool:
        if parts is None:
            return False
        if len(parts) == 5 and parts[2] == b"," and parts[4] == b"]}}" and parts[0].endswith(_TAIL_TWO):
            return self._pair(parts[1], parts[3], encoded)
        return self._other_addresses(encoded, parts)

    def _pair(self, first: bytes, second: bytes, encoded: bytes) -> bool:
        """The verdict for a trailing ``related.ip`` of two elements (cache misses and listed ones)."""
        one, two = self._verdict(first), self._verdict(second)
        if one == _YES or two == _YES:
            return True
        if one == _NO and two == _NO:
            return False
        return self._scan_addresses(encoded)  # not address text: the tail is not to be trusted

    def _other_addresses(self, encoded: bytes, parts: list[bytes]) -> bool:
        """Documents not ending in a two-address ``related.ip``: one address (``…"related":{`` "ip"
        ":[" "A" "]}}"), else every ``"ip":`` key is scanned."""
        if (len(parts) == 5 and parts[4] == b"]}}" and parts[1] == b"ip" and parts[2] == b":["
                and parts[0].endswith(_TAIL_ONE)):
            only = self._verdict(parts[3])
            if only != _NOT_ADDRESS:
                return only == _YES
        return self._scan_addresses(encoded)

    def _verdict(self, text: bytes) -> int:
        if text in self._clean:
            return _NO
        verdict = self._ip_verdicts.get(text)
        return self._ip_verdict(text) if verdict is None else verdict

    def _scan_addresses(self, encoded: bytes) -> bool:
        """Every ``related`` object's ``ip`` array, at any depth: the first ``"ip":[`` after a
        ``"related":{`` is that object's ``ip`` member when it has one (the members before it are
        arrays of strings, which cannot hold a key); when it has none, whatever array is found
        further on is only an extra candidate."""
        find = encoded.find
        pos = find(_RELATED_KEY)
        while pos >= 0:
            pos += len(_RELATED_KEY)
            array = find(_IP_ARRAY_KEY, pos)
            if array < 0:
                return False
            if self._scan_array(encoded, array + len(_IP_ARRAY_KEY)) is not False:
                return True
            pos = find(_RELATED_KEY, pos)
        return False

    def _scan_array(self, encoded: bytes, pos: int) -> bool | None:
        """Whether an array of address strings holds a listed one; ``None`` when it is not such an array."""
        while True:
            opener = encoded[pos:pos + 1]
            if opener == b"]":
                return False
            if opener != b'"':
                return None
            end = encoded.find(b'"', pos + 1)
            text = encoded[pos + 1:end]
            if end < 0 or b"\\" in text:
                return None
            if self._verdict(text) == _YES:
                return True
            after = encoded[end + 1:end + 2]
            if after == b"]":
                return False
            if after != b",":
                return None
            pos = end + 2

    def _scan_hosts(self, encoded: bytes) -> bool:
        find = encoded.find
        get = self._host_verdicts.get
        for key in _HOST_KEYS:
            pos = find(key)
            while pos >= 0:
                pos += len(key)
                end = find(b'"', pos)
                text = encoded[pos:end]
                verdict = get(text)
                if verdict is None:
                    verdict = self._host_verdict(text)
                if verdict:
                    return True
                pos = find(key, end)
        return False

    def _ip_verdict(self, text: bytes) -> int:
        try:
            hits = self._index.resolve_ip(text.decode("ascii"))
        except UnicodeDecodeError:
            hits = None
        verdict = _NOT_ADDRESS if hits is None else _YES if hits else _NO
        store: set[bytes] | dict[bytes, int] = self._clean if verdict == _NO else self._ip_verdicts
        if len(store) >= self._max:
            store.clear()
        if verdict == _NO:
            self._clean.add(text)
        else:
            self._ip_verdicts[text] = verdict
        return verdict

    def _host_verdict(self, text: bytes) -> bool:
        if b"\\" in text:
            return True  # an escaped character: the true value is longer than the bytes up to this quote
        verdict = bool(self._index.host_hits(text.decode("utf-8", "replace")))
        if len(self._host_verdicts) >= self._max:
            self._host_verdicts.clear()
        self._host_verdicts[text] = verdict
        return verdict


def _is_flow(encoded: bytes) -> bool:
    """The top-level ``event.dataset`` is ``aws.vpcflow`` (its key directly inside the first key's
    object, ``event``: no brace between them)."""
    if not encoded.startswith(_FLOW_HEAD):
        return False
    at = encoded.find(_FLOW_DATASET, len(_FLOW_HEAD), 512)
    return at > 0 and encoded.find(b"{", len(_FLOW_HEAD), at) < 0 and encoded.find(b"}", len(_FLOW_HEAD), at) < 0
