"""``deploy kibana``: the saved objects (data views, dashboards, searches) and the Elastic Security
detection rules, into the default space or ``--space``."""

from __future__ import annotations

from pathlib import Path

import requests

from connector.content.build import KIBANA_DETECTION_RULES, KIBANA_SAVED_OBJECTS
from connector.deploy.content_files import content_path, detection_rules_in, saved_objects_in
from connector.deploy.dashboards_config import DashboardsConfig
from connector.deploy.dashboards_connection import DashboardsConnection
from connector.deploy.detection_rules import install_detection_rules
from connector.deploy.report import DeployReport, Outcomes
from connector.deploy.saved_objects import install_saved_objects


def deploy_kibana(
    config: DashboardsConfig, root: Path, *, overwrite: bool, dry_run: bool,
    session: requests.Session | None = None,
) -> DeployReport:
    """Install (or, with ``dry_run``, plan) the saved objects, then the detection rules."""
    objects = saved_objects_in(content_path(root, KIBANA_SAVED_OBJECTS))
    rules = detection_rules_in(content_path(root, KIBANA_DETECTION_RULES))
    saved = Outcomes("saved objects", dry_run)
    detections = Outcomes("detection rules", dry_run)
    with DashboardsConnection(config, session) as connection:
        connection.check_space()
        install_saved_objects(connection, objects, saved, overwrite=overwrite)
        install_detection_rules(connection, rules, detections, overwrite=overwrite)
    return DeployReport(config.where, (saved, detections), dry_run)
