"""Sink credentials from Secrets Manager (moto over HTTP): the CLI and the Lambda runtime read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector import aws_lambda
from connector.cli import main
from connector.errors import ConfigError
from connector.secrets import SECRETS_ARN_VARIABLE, with_secrets
from tests.servers.moto_server import MotoServer

TOKEN = "00000000-0000-4000-8000-00000000beef"


def _secret(moto: MotoServer, name: str, value: str) -> str:
    return str(moto.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"])


def _no_client() -> Any:
    raise AssertionError("no secret is named, so no client may be built")


def test_secret_variables_win_over_the_environment(moto: MotoServer) -> None:
    arn = _secret(moto, "connector/sinks", json.dumps({"SPLUNK_HEC_TOKEN": TOKEN, "ES_API_KEY": "k=="}))
    env = {SECRETS_ARN_VARIABLE: arn, "SPLUNK_HEC_TOKEN": "stale", "OTHER": "x"}
    merged = with_secrets(env, lambda: moto.client("secretsmanager"))
    assert merged == {**env, "SPLUNK_HEC_TOKEN": TOKEN, "ES_API_KEY": "k=="}
    assert with_secrets({"OTHER": "x"}, _no_client) == {"OTHER": "x"}


@pytest.mark.parametrize("value", ['["a list"]', "plain-token-text", '{"SPLUNK_HEC_TOKEN": 42}'])
def test_a_malformed_secret_is_named_without_its_value(moto: MotoServer, value: str) -> None:
    arn = _secret(moto, "connector/bad", value)
    with pytest.raises(ConfigError, match="must be a JSON object of variable names to strings") as err:
        with_secrets({SECRETS_ARN_VARIABLE: arn}, lambda: moto.client("secretsmanager"))
    assert value not in str(err.value)


def test_a_missing_secret_says_why(moto: MotoServer) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(ConfigError, match=r"cannot read secret .*nope.*ResourceNotFoundException"):
        with_secrets({SECRETS_ARN_VARIABLE: arn}, lambda: moto.client("secretsmanager"))


def test_cli_reads_the_hec_token_from_the_secret(moto: MotoServer, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SPLUNK_HEC_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    command = ["demo", "--sink", "splunk", "--hec-url", "http://127.0.0.1:9", "--dry-run"]
    assert main(command) == 2
    assert "SPLUNK_HEC_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv(SECRETS_ARN_VARIABLE, _secret(moto, "connector/hec", json.dumps({"SPLUNK_HEC_TOKEN": TOKEN})))
    assert main(command) == 0
    shown = capsys.readouterr()
    assert "POST http://127.0.0.1:9/services/collector/event" in shown.out
    assert TOKEN not in shown.out + shown.err  # the preview masks it


def test_lambda_runtime_reads_the_secret(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in moto.env.items():  # boto3 reads the region and endpoint from the process
        monkeypatch.setenv(key, value)
    arn = _secret(moto, "connector/es", json.dumps({"ES_API_KEY": "abc=="}))
    env = {**moto.env, SECRETS_ARN_VARIABLE: arn, "AWS_SIEM_CONNECTOR_SINK__TYPE": "elasticsearch",
           "AWS_SIEM_CONNECTOR_ELASTICSEARCH__URL": "http://127.0.0.1:9"}
    runtime = aws_lambda._build_runtime(env)
    try:
        assert runtime.parts.sink.connection.headers["Authorization"] == "ApiKey abc=="  # type: ignore[attr-defined]
    finally:
        runtime.close()
