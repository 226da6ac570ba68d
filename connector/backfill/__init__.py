"""Historical load of an S3 log bucket: list only the date partitions in range, read the objects in
one or more worker processes, checkpoint each object once it is settled, show progress and a summary.

The same objects can instead be put on an SQS queue as S3 notifications (``--enqueue``) so that
any number of ``forward`` workers share the work through the code path they already have.
"""

from __future__ import annotations

from connector.backfill.ndjson_tails import repair_ndjson_tails
from connector.backfill.plan import BackfillPlan, BackfillScope, PlannedObject, plan_backfill
from connector.backfill.run import run_s3_backfill

__all__ = ["BackfillPlan", "BackfillScope", "PlannedObject", "plan_backfill", "repair_ndjson_tails",
           "run_s3_backfill"]
