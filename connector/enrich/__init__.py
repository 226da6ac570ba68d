"""Enrichment applied after normalization: address classes, GeoIP, Community ID."""
