"""Sigma detections for CloudTrail and VPC flow logs, converted into the query language of the SIEM
that holds the documents: the bundled rules (``mappings/sigma/rules``) or any others written for
``product: aws, service: cloudtrail`` (or ``vpcflow``) with the source's own field names, as
SigmaHQ writes them.

The processing pipeline maps those names to the ECS fields this connector writes, so a rule runs
unchanged on its data in Elasticsearch, OpenSearch or Splunk. pySigma and its backends are an
optional extra: ``pip install 'aws-siem-connector[sigma]'``.
"""

from connector.detections.conversion import BACKENDS, Conversion, Detection, Threshold, convert
from connector.detections.handwritten import HandwrittenDetection, NewTerms, handwritten
from connector.detections.rules import Refusal, bundled_rules_dir
from connector.detections.splunk_alerts import splunk_macros, splunk_saved_searches

__all__ = ["BACKENDS", "Conversion", "Detection", "HandwrittenDetection", "NewTerms", "Refusal", "Threshold",
           "bundled_rules_dir", "convert", "handwritten", "splunk_macros", "splunk_saved_searches"]
