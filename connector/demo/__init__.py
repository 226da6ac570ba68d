"""A deterministic day of AWS telemetry, written in the real S3 layout, for the demo and the tests."""
