"""Unit tests of the connector's core: readers, normalizers, enrichment, pipeline, CLI."""
