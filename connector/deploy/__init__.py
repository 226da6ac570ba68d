"""Installs the generated SIEM content in a running product, idempotently: Kibana saved objects and
Elastic Security detection rules, OpenSearch Dashboards saved objects, OpenSearch Alerting monitors.

One module per target (``kibana``, ``opensearch_dashboards``, ``opensearch_alerting``); the files
come from ``content_files``; each target reports per object through ``report.Outcomes``.
"""
