"""Threat-intel enrichment: indicator feeds read at start (and refreshed in long-running modes),
matched against each document's addresses and host names, marked with ECS ``threat.enrichments``."""
