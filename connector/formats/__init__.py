"""Readers that turn the bytes AWS delivers into raw records, one module per log format."""
