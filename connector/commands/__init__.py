"""The commands of ``aws-siem-connector``, one module each.

Every module names its command (``NAME``, ``HELP``), registers its own arguments
(``add_arguments``) and runs it (``run``, returning the exit code). ``connector.cli`` only
assembles them, and no command imports it back.

Exit codes are the same for every command: ``0`` everything was written or skipped by a named
rule; ``1`` the run finished but something was dead-lettered or refused; ``2`` a configuration
or input error, or a sink refused the run.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_ERROR = 2


def exit_code(unsettled: int) -> int:
    """``0`` when nothing was dead-lettered or refused, else ``1``: the run finished either way."""
    return EXIT_OK if unsettled == 0 else EXIT_INCOMPLETE
