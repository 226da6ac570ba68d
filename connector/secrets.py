"""Sink credentials from AWS Secrets Manager, so a Lambda function or a container keeps its HEC
token or API key out of its plain environment.

``AWS_SIEM_CONNECTOR_SECRETS_ARN`` names one secret whose value is a JSON object of the same
variables the sinks read from the environment (``SPLUNK_HEC_TOKEN``, ``ES_API_KEY``,
``ES_USERNAME``/``ES_PASSWORD``, ``OPENSEARCH_*``, ...). Its values win over the environment's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from connector.errors import ConfigError

SECRETS_ARN_VARIABLE = "AWS_SIEM_CONNECTOR_SECRETS_ARN"


def with_configured_secrets(env: Mapping[str, str], config_path: str | None = None) -> dict[str, str]:
    """``env`` overlaid with the secret it names, read with the configuration's ``aws`` settings
    (region, endpoint, role); the configuration is read only when a secret is named."""
    if not env.get(SECRETS_ARN_VARIABLE, "").strip():
        return dict(env)
    from connector.config import load_config
    from connector.sources.s3 import aws_client, aws_session

    aws = load_config(config_path, env).section("aws")
    return with_secrets(env, lambda: aws_client(aws_session(aws), "secretsmanager", aws))


def with_secrets(env: Mapping[str, str], client_for: Callable[[], Any]) -> dict[str, str]:
    """``env`` overlaid with the secret's variables; ``env`` itself when no secret is named.

    ``client_for`` builds the Secrets Manager client only when a secret is named.
    """
    arn = env.get(SECRETS_ARN_VARIABLE, "").strip()
    if not arn:
        return dict(env)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = client_for().get_secret_value(SecretId=arn)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ConfigError(f"{SECRETS_ARN_VARIABLE}: cannot read secret {arn}: {error.get('Code')}: "
                          f"{error.get('Message')}") from None
    except BotoCoreError as exc:
        raise ConfigError(f"{SECRETS_ARN_VARIABLE}: cannot read secret {arn}: {exc}") from None
    text = value.get("SecretString")
    try:
        variables = orjson.loads(text) if isinstance(text, str) else None
    except orjson.JSONDecodeError:
        variables = None
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        # Never echo the value: it is a secret even when it is malformed.
        raise ConfigError(f"{SECRETS_ARN_VARIABLE}: secret {arn} must be a JSON object of variable names to"
                          ' strings, e.g. {"SPLUNK_HEC_TOKEN": "..."}')
    return {**env, **variables}
