"""Checks on the detections the connector generates: the queries, against their languages' rules."""
