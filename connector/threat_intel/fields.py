"""Which document fields are matched against indicators. One list for both users: ``enrich``
reads these fields, and the byte-level pre-check (``prefilter.py``) takes its search keys from
them, so the two cannot drift apart (the pre-check must see every value ``enrich`` would match).

Addresses: the ECS address fields (``related.ip`` too: an entry none of them holds is matched
as ``related.ip``). The pre-check reads only ``related.ip``, which the normalizers fill with
every address of the document. Host names: the fields this code base writes that can hold one:
``source.address`` (and its ECS siblings) when it is not an address (CloudTrail writes an AWS
service name or a host there) and ``tls.client.server_name`` (CloudTrail's TLS host header).
A normalizer that starts writing ``*.domain`` or ``url.domain`` adds them here.
"""

from __future__ import annotations

IP_FIELDS = (("source", "ip"), ("destination", "ip"), ("client", "ip"), ("server", "ip"), ("host", "ip"))
RELATED_IP = ("related", "ip")
ADDRESS_FIELDS = (("source", "address"), ("destination", "address"), ("client", "address"), ("server", "address"))
HOST_FIELDS = (("tls", "client", "server_name"),)


def key_names(*paths: tuple[str, ...]) -> tuple[str, ...]:
    """The distinct last keys of ``paths``: what the pre-check searches for."""
    return tuple(dict.fromkeys(path[-1] for path in paths))
