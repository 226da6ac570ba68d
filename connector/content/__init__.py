"""Ready-made SIEM content generated from readable sources: Kibana saved objects and Elastic
Security rules, OpenSearch Dashboards objects and Alerting monitors.

The sources are ``mappings/content/dashboards.yml`` (data views, dashboards, saved searches) and
the detections (``mappings/sigma/``). ``build.rendered()`` produces every file under ``deploy/``;
the files are committed, and a test fails when they differ from what the generator makes.
"""
