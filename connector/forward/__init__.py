"""``forward``: the long-running service that drains SQS queues of S3, Config and CloudWatch Logs
notifications into a sink, deleting each message only after all its records are settled."""

from connector.forward.service import ForwardService
from connector.forward.settings import ForwardSettings

__all__ = ["ForwardService", "ForwardSettings"]
