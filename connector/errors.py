"""One small exception hierarchy; every message is meant for the person running the connector."""


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """A setting is missing or invalid; the message names the key and where it came from."""


class SourceError(ConnectorError):
    """Input could not be read (missing file, unreachable bucket, broken object)."""


class SinkError(ConnectorError):
    """A sink failed in a way that may succeed later (retries exhausted, connection lost)."""


class FatalSinkError(SinkError):
    """A sink refused the whole batch (bad token, wrong index): stop and acknowledge nothing."""
