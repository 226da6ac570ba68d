"""``deploy opensearch-dashboards``: the saved objects (index patterns, dashboards, visualizations,
searches), into the user's default tenant or ``--tenant``."""

from __future__ import annotations

from pathlib import Path

import requests

from connector.content.build import OPENSEARCH_DASHBOARDS_SAVED_OBJECTS
from connector.deploy.content_files import content_path, saved_objects_in
from connector.deploy.dashboards_config import DashboardsConfig
from connector.deploy.dashboards_connection import DashboardsConnection
from connector.deploy.report import DeployReport, Outcomes
from connector.deploy.saved_objects import install_saved_objects


def deploy_opensearch_dashboards(
    config: DashboardsConfig, root: Path, *, overwrite: bool, dry_run: bool,
    session: requests.Session | None = None,
) -> DeployReport:
    """Install (or, with ``dry_run``, plan) the saved objects."""
    objects = saved_objects_in(content_path(root, OPENSEARCH_DASHBOARDS_SAVED_OBJECTS))
    saved = Outcomes("saved objects", dry_run)
    with DashboardsConnection(config, session) as connection:
        install_saved_objects(connection, objects, saved, overwrite=overwrite)
    return DeployReport(config.where, (saved,), dry_run)
