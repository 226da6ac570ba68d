"""load_config: YAML file, AWS_SIEM_CONNECTOR_<SECTION>__<KEY> environment, command-line overrides, errors."""

from __future__ import annotations

import pytest

from connector.config import load_config
from connector.errors import ConfigError


def write(tmp_path, text: str) -> str:
    path = tmp_path / "connector.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_without_file_env_or_overrides():
    config = load_config(None, {})
    assert config.geoip.city_db == "embedded" and config.geoip.asn_db is None
    assert config.normalize.drop_nodata is False and config.normalize.vpcflow_format is None
    assert config.pipeline.batch_docs == 5000 and config.dlq_path is None


def test_yaml_file_sets_values(tmp_path):
    path = write(tmp_path, "normalize:\n  drop_nodata: true\n  vpcflow_format: version srcaddr\n"
                           "pipeline:\n  batch_docs: 10\ndlq:\n  path: /tmp/x.ndjson\ngeoip:\n  city_db: none\n")
    config = load_config(path, {})
    assert config.normalize.drop_nodata is True
    assert config.normalize.vpcflow_format == "version srcaddr"
    assert config.pipeline.batch_docs == 10 and config.dlq_path == "/tmp/x.ndjson"
    assert config.geoip.city_db is None
    assert config.source_file == path


def test_environment_overrides_file_and_command_line_overrides_environment(tmp_path):
    path = write(tmp_path, "normalize:\n  vpcflow_format: from-file\npipeline:\n  batch_docs: 10\n")
    env = {"AWS_SIEM_CONNECTOR_NORMALIZE__VPCFLOW_FORMAT": "from-env",
           "AWS_SIEM_CONNECTOR_PIPELINE__BATCH_DOCS": "20",
           "AWS_SIEM_CONNECTOR_NORMALIZE__DROP_NODATA": "yes"}
    config = load_config(path, env, {"pipeline": {"batch_docs": 30}, "normalize": {"drop_nodata": None}})
    assert config.normalize.vpcflow_format == "from-env"
    assert config.pipeline.batch_docs == 30
    assert config.normalize.drop_nodata is True  # a None override leaves the lower layer alone


def test_unknown_key_in_file_names_the_key_and_the_file(tmp_path):
    path = write(tmp_path, "normalize:\n  keep_orig: true\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert "normalize.keep_orig" in str(err.value) and path in str(err.value)


def test_unknown_section_in_file_names_the_section_and_the_file(tmp_path):
    path = write(tmp_path, "normalise:\n  drop_nodata: true\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert "normalise" in str(err.value) and path in str(err.value)


def test_unknown_key_in_environment_is_an_error_naming_the_key():
    with pytest.raises(ConfigError) as err:
        load_config(None, {"AWS_SIEM_CONNECTOR_NORMALIZE__DROPNODATA": "1"})
    assert "normalize.dropnodata" in str(err.value)


def test_unknown_section_in_environment_is_an_error_not_a_silent_typo():
    with pytest.raises(ConfigError) as err:
        load_config(None, {"AWS_SIEM_CONNECTOR_GEOIPP__CITY_DB": "/data/GeoLite2-City.mmdb"})
    assert "geoipp" in str(err.value).lower()


@pytest.mark.parametrize(("text", "words"), [
    ("normalize:\n  drop_nodata: maybe\n", ["normalize.drop_nodata", "true or false"]),
    ("pipeline:\n  batch_docs: lots\n", ["pipeline.batch_docs", "integer"]),
    ("pipeline:\n  batch_docs: 0\n", ["pipeline.batch_docs", "at least 1"]),
    ("- a\n- b\n", ["mapping"]),
    ("normalize: [1\n", ["not valid YAML"]),
])
def test_invalid_values_are_errors_naming_the_key_and_file(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    for word in [*words, path]:
        assert word in str(err.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(str(tmp_path / "nope.yaml"), {})
    assert "nope.yaml" in str(err.value)
