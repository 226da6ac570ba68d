"""User-agent strings -> ECS ``user_agent`` objects with uap-core's regexes (the same ones
Elasticsearch's user_agent processor uses), memoized because API callers repeat theirs."""

from __future__ import annotations

from typing import Any

from ua_parser import parse


class UserAgentParser:
    """Parses and caches; a parse costs about a millisecond, a cache hit a dict lookup."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._cache: dict[str, dict[str, Any]] = {}
        self._max = max_entries

    def __call__(self, text: str) -> dict[str, Any]:
        """ECS ``user_agent`` object for ``text``, shared between documents: treat it as read-only
        (documents are serialized as soon as they are built)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._parse(text)
            cached["original"] = text
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[text] = cached
        return cached

    @staticmethod
    def _parse(text: str) -> dict[str, Any]:
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
