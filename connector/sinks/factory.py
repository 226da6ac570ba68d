"""Builds the sink a run asks for from the one configuration object; sink modules load lazily."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from connector.config import AppConfig
from connector.errors import ConfigError, ConnectorError
from connector.sinks.base import Batch, Delivery, Sink
from connector.sinks.file import FileSink

log = logging.getLogger(__name__)
SINK_KINDS = ("file", "splunk", "elasticsearch", "opensearch")
# Configuration-file section of each sink.
SECTION = {"file": "file", "splunk": "splunk_hec", "elasticsearch": "elasticsearch", "opensearch": "opensearch"}


def build_sink(kind: str, config: AppConfig, env: Mapping[str, str], check: bool = True) -> Sink:
    """The sink named ``kind``, configured from its section; ``check`` probes the server first."""
    settings = dict(config.sinks.get(SECTION.get(kind, kind), {}))
    if kind == "file":
        unknown = set(settings) - {"out"}
        if unknown:
            raise ConfigError(f"{config.source_file}: unknown key(s) file.{', file.'.join(sorted(unknown))}")
        return FileSink(settings.get("out") or "out")
    if kind == "splunk":
        from connector.sinks.splunk_hec import HecSink
        from connector.sinks.splunk_hec_config import HecSinkConfig

        hec = HecSink(HecSinkConfig.from_settings(settings, env))
        if check:
            log.info("%s", hec.check_health())
        return hec
    if kind in ("elasticsearch", "opensearch"):
        from connector.sinks.search_config import SearchSinkConfig

        search_config = SearchSinkConfig.from_settings(settings, env, kind)
        if kind == "elasticsearch":
            from connector.sinks.elasticsearch import ElasticsearchSink

            search: Any = ElasticsearchSink(search_config)
        else:
            from connector.sinks.opensearch import OpenSearchSink

            search = OpenSearchSink(search_config)
        if check:
            log.info("%s", search.check_connection())
        return search  # type: ignore[no-any-return]
    raise ConfigError(f"unknown sink {kind!r}; choose one of {', '.join(SINK_KINDS)}")


def needs_originals(sink: Sink) -> bool:
    """Whether the pipeline must keep the raw AWS record of each document for this sink."""
    return bool(getattr(sink, "needs_originals", False))


class PreviewDone(ConnectorError):
    """Raised by ``DryRunSink`` after the first batch has been shown; nothing was sent."""


class DryRunSink:
    """Shows the first batch as the real sink would send it, then stops the run; sends nothing."""

    def __init__(self, inner: Sink, max_docs: int = 3) -> None:
        self._inner = inner
        self._max_docs = max_docs

    @property
    def needs_originals(self) -> bool:
        """Mirror the real sink, so the preview shows what it would send."""
        return needs_originals(self._inner)

    def send(self, batch: Batch) -> Delivery:
        """Print the preview and stop."""
        preview = getattr(self._inner, "preview", None)
        if callable(preview):
            text = preview(batch)
        else:
            text = "\n".join(doc.decode() for doc in batch.encoded[: self._max_docs])
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        raise PreviewDone(f"dry run: showed the first batch of {len(batch)} documents; nothing was sent")

    def close(self) -> None:
        """Close the real sink without having used it."""
        self._inner.close()
