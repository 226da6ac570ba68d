"""User-agent strings -> ECS ``user_agent`` objects with uap-core's regexes (the same ones
Elasticsearch's user_agent processor uses), memoized because API callers repeat theirs."""

from __future__ import annotations

from typing import Any

import orjson
from ua_parser import parse


class UserAgentParser:
    """Parses and caches; a new agent string costs a regex-set match, a known one a dict lookup."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._cache: dict[str, orjson.Fragment] = {}
        self._max = max_entries

    def __call__(self, text: str) -> orjson.Fragment:
        """ECS ``user_agent`` object for ``text``, serialized once and spliced by orjson into
        every document that carries the same agent."""
        cached = self._cache.get(text)
        if cached is None:
            parsed = self.parse(text)
            parsed["original"] = text
            cached = orjson.Fragment(orjson.dumps(parsed))
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[text] = cached
        return cached

    @staticmethod
    def parse(text: str) -> dict[str, Any]:
        """The ECS ``user_agent`` fields uap-core's regexes find in ``text`` (without ``original``)."""
        result = parse(text)
        out: dict[str, Any] = {"device": {"name": result.device.family if result.device else "Other"}}
        ua = result.user_agent
        if ua is not None:
            out["name"] = ua.family
            version = ".".join(p for p in (ua.major, ua.minor, ua.patch) if p)
            if version:
                out["version"] = version
        os = result.os
        if os is not None:
            os_obj: dict[str, Any] = {"name": os.family}
            os_version = ".".join(p for p in (os.major, os.minor, os.patch) if p)
            if os_version:
                os_obj["version"] = os_version
                os_obj["full"] = f"{os.family} {os_version}"
            else:
                os_obj["full"] = os.family
            out["os"] = os_obj
        return out
