"""One typed configuration, built once at start from a YAML file, the environment and the
command line (in rising precedence), and validated with errors that name the key and file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connector.enrich.geoip import EMBEDDED_CITY_DB, GeoIpSettings
from connector.errors import ConfigError
from connector.threat_intel.settings import ThreatIntelSettings, threat_intel_settings
from connector.transform.settings import FilterRule, filter_rules, prune_settings

SECTIONS = {"geoip", "normalize", "sink", "dlq", "pipeline", "splunk_hec", "elasticsearch", "opensearch", "file",
            "aws", "forward", "backfill", "cloudwatch", "kibana", "opensearch_dashboards", "threat_intel"}
# Top-level keys that are not sections of KEY: value settings.
LISTS = {"filters", "prune_fields"}
# Sections validated by the component that owns them (a sink, a source, a service, a deploy target).
COMPONENT_SECTIONS = ("sink", "splunk_hec", "elasticsearch", "opensearch", "file", "aws", "forward", "backfill",
                      "cloudwatch", "kibana", "opensearch_dashboards")
ENV_PREFIX = "AWS_SIEM_CONNECTOR_"
# The configuration file when no --config is given (how a Lambda function or a container names it).
CONFIG_FILE_VARIABLE = "AWS_SIEM_CONNECTOR_CONFIG"


@dataclass(frozen=True, slots=True)
class NormalizeSettings:
    """How records become documents."""

    keep_original: bool = False  # event.original
    drop_nodata: bool = False  # leave out flow records without data (NODATA/SKIPDATA)
    vpcflow_format: str | None = None  # custom format of headerless flow-log lines
    log_group_formats: Mapping[str, str] = field(default_factory=dict)  # per CloudWatch log group


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Batching between the normalizer and the sink."""

    batch_docs: int = 5000


@dataclass(frozen=True, slots=True)
class AppConfig:
    """Everything the connector needs at run time; sink sections stay raw for each sink to validate."""

    geoip: GeoIpSettings = field(default_factory=GeoIpSettings)
    normalize: NormalizeSettings = field(default_factory=NormalizeSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    dlq_path: str | None = None
    filters: tuple[FilterRule, ...] = ()
    prune_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    threat_intel: ThreatIntelSettings = field(default_factory=ThreatIntelSettings)
    # Raw sections of the sinks, sources and services; each validates its own (see COMPONENT_SECTIONS).
    sinks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """A component's raw settings (empty when absent)."""
        return dict(self.sinks.get(name, {}))
    source_file: str = "<defaults>"


def _bool(value: Any, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")


def _section(raw: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: section {name!r} must be a mapping")
    return dict(value)


def _check_keys(section: Mapping[str, Any], allowed: set[str], name: str, where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(name + '.' + k for k in unknown)}; "
                          f"known: {', '.join(sorted(allowed))}")


def load_config(path: str | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Mapping[str, Any]] | None = None) -> AppConfig:
    """Read ``path`` (YAML; else the file ``AWS_SIEM_CONNECTOR_CONFIG`` names) if given, then
    ``AWS_SIEM_CONNECTOR_<SECTION>__<KEY>`` variables, then ``overrides`` (the command line).
    Unknown sections or keys are errors, not silent typos."""
    env = os.environ if env is None else env
    path = path or env.get(CONFIG_FILE_VARIABLE) or None
    where = path or "<command line>"
    raw: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of sections at the top level")
        raw = loaded
    unknown = sorted(set(raw) - SECTIONS - LISTS)
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(SECTIONS | LISTS))}")
    sections = {name: _section(raw, name, where) for name in SECTIONS}
    for var, value in env.items():
        if var.startswith(ENV_PREFIX) and "__" in var:
            section, _, key = var[len(ENV_PREFIX):].lower().partition("__")
            if section not in sections:
                raise ConfigError(f"environment variable {var}: unknown section {section!r}; "
                                  f"known: {', '.join(sorted(SECTIONS))}")
            sections[section][key] = value
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update({k: v for k, v in values.items() if v is not None})

    geo = sections["geoip"]
    _check_keys(geo, {"city_db", "asn_db"}, "geoip", where)
    city = geo.get("city_db", EMBEDDED_CITY_DB)
    geoip = GeoIpSettings(city_db=None if city in ("", "none", None) else str(city),
                          asn_db=str(geo["asn_db"]) if geo.get("asn_db") else None)

    norm = sections["normalize"]
    _check_keys(norm, {"keep_original", "drop_nodata", "vpcflow_format", "log_group_formats"}, "normalize", where)
    formats = norm.get("log_group_formats") or {}
    if not isinstance(formats, dict):
        raise ConfigError(f"{where}: normalize.log_group_formats must map log group names to format strings")
    normalize = NormalizeSettings(
        keep_original=_bool(norm.get("keep_original", False), "normalize.keep_original", where),
        drop_nodata=_bool(norm.get("drop_nodata", False), "normalize.drop_nodata", where),
        vpcflow_format=norm.get("vpcflow_format") or None,
        log_group_formats={str(k): str(v) for k, v in formats.items()},
    )

    pipe = sections["pipeline"]
    _check_keys(pipe, {"batch_docs"}, "pipeline", where)
    try:
        batch_docs = int(pipe.get("batch_docs", 5000))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: pipeline.batch_docs must be an integer") from None
    if batch_docs < 1:
        raise ConfigError(f"{where}: pipeline.batch_docs must be at least 1")

    dlq = sections["dlq"]
    _check_keys(dlq, {"path"}, "dlq", where)
    sinks = {name: sections[name] for name in COMPONENT_SECTIONS}
    return AppConfig(geoip=geoip, normalize=normalize, pipeline=PipelineSettings(batch_docs=batch_docs),
                     dlq_path=dlq.get("path") or None, filters=filter_rules(raw.get("filters"), where),
                     prune_fields=prune_settings(raw.get("prune_fields"), where),
                     threat_intel=threat_intel_settings(sections["threat_intel"], where,
                                                       Path(path).parent if path else None),
                     sinks=sinks, source_file=where)
