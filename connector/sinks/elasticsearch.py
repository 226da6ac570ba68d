"""Elasticsearch sink: the shared bulk logic with API key, basic or bearer authentication."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from connector.sinks.search_bulk import SearchBulkSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_connection import SearchConnection


class ElasticsearchSink(SearchBulkSink):
    """Writes ECS documents to ``logs-aws_connector.<dataset>-<namespace>`` data streams."""

    display_name = "Elasticsearch"

    def __init__(
        self,
        config: SearchSinkConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.kind != "elasticsearch":
            raise ValueError(f"ElasticsearchSink needs an elasticsearch config, got {config.kind!r}")
        super().__init__(config, elasticsearch_connection(config, session), sleep=sleep)


def elasticsearch_connection(config: SearchSinkConfig, session: requests.Session | None = None) -> SearchConnection:
    """A connection with the header-based auth Elasticsearch accepts (ApiKey, Basic, Bearer)."""
    return SearchConnection(config, session)
