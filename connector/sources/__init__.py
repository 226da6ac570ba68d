"""Where bytes come from: local files, S3, SQS, CloudWatch Logs, Lambda events."""
