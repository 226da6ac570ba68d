"""What each detection must find in the demo day and the look-alikes it must pass over, recorded
by the generator at the moment it writes the records, so a test can score a SIEM's alerts."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class DetectionLabel:
    """One detection's truth for the day: the values of `field` it must report, and those it must not."""

    field: str
    expected: frozenset[str]
    benign: frozenset[str]


# Each detection by the id of the rule that alerts: mappings/sigma/rules/ (for a flow-log file the
# correlation rule, not its base rule) and mappings/sigma/handwritten.yml.
TRAIL_LOGGING_STOPPED = "5f2a8b0e-2d1c-4c55-9a4e-0b6b8f1c7a11"
CONFIG_RECORDING_CHANGED = "6ff0a9d3-9702-5232-9211-d843a31bd25a"
CONSOLE_LOGIN_FAILURE = "7b1e8d2f-4a5c-4b9f-9d3e-2f6a0c4b8d33"
CONSOLE_LOGIN_WITHOUT_MFA = "8c2f9e3a-5b6d-4c0a-8e4f-3a7b1d5c9e44"
IAM_ACCESS_KEY_CREATED = "4c8e2a7f-9d1b-4e3c-a6f8-1b7d4e9c2a23"
IAM_POLICY_CHANGED = "c2d995e7-9874-5f7a-a803-9f5611a9e201"
KMS_KEY_DISABLED = "517aaa4e-0fde-5799-a05d-207bf8270888"
NETWORK_ACL_CHANGED = "c760e86a-1a58-56f6-8695-cc53db75418f"
NETWORK_GATEWAY_CHANGED = "28fe4cb9-d892-5efc-b535-8b9f62d3d898"
ROOT_ACCOUNT_USAGE = "8f3a1c6e-2b7d-4f9a-9e4c-5d2b8a1f7c22"
ROOT_CONSOLE_LOGIN = "6a0d7c1e-3f4b-4a8e-8c2d-1e5f9b3a7c22"
ROUTE_TABLE_CHANGED = "d3508761-e91c-5fa9-85bd-6a879113a974"
S3_BUCKET_POLICY_CHANGED = "30f39421-78e7-512e-9d82-2d1285b896b6"
SECURITY_GROUP_CHANGED = "81fd7dd7-7d5d-5cf4-8a8b-755ea8a491d8"
SECURITY_GROUP_OPENED_TO_INTERNET = "2d7b9e4f-6a1c-4e8d-b3f5-8c1a7e2d9b21"
UNAUTHORIZED_API_CALLS = "9d3a0f4b-6c7e-4d1b-9f5a-4b8c2e6d0f55"
VPC_CHANGED = "498234f8-d0b7-5166-9537-7dcadfd7c169"
INBOUND_FROM_UNEXPECTED_COUNTRY = "3e8d1a6c-4f2b-4d7e-b9a5-7c3e1f8d2b07"
PORT_SCAN = "1a7e3c5b-8d2f-4e6a-9c1b-4f7d2a8e6c06"
REJECT_FLOOD = "9d4b6f8a-2e1c-4b7d-8a3f-5c2e9b1d7f04"
SSH_RDP_BRUTE_FORCE = "7e2d4f6a-1b3c-4d5e-9f8a-6c4b2a0e1d02"
SIGN_IN_FROM_NEW_COUNTRY = "0f6c2b8e-5d4a-4e3b-9c7f-2a1d8e6b4c10"

# What identifies one finding: a CloudTrail record for the single-event rules, the source address
# for the flow-log correlations, the user for the sign-in history.
FIELDS: dict[str, str] = {
    **{
        rule: "event.id"
        for rule in (
            TRAIL_LOGGING_STOPPED,
            CONFIG_RECORDING_CHANGED,
            CONSOLE_LOGIN_FAILURE,
            CONSOLE_LOGIN_WITHOUT_MFA,
            IAM_ACCESS_KEY_CREATED,
            IAM_POLICY_CHANGED,
            KMS_KEY_DISABLED,
            NETWORK_ACL_CHANGED,
            NETWORK_GATEWAY_CHANGED,
            ROOT_ACCOUNT_USAGE,
            ROOT_CONSOLE_LOGIN,
            ROUTE_TABLE_CHANGED,
            S3_BUCKET_POLICY_CHANGED,
            SECURITY_GROUP_CHANGED,
            SECURITY_GROUP_OPENED_TO_INTERNET,
            UNAUTHORIZED_API_CALLS,
            VPC_CHANGED,
        )
    },
    **{rule: "source.ip" for rule in (INBOUND_FROM_UNEXPECTED_COUNTRY, PORT_SCAN, REJECT_FLOOD, SSH_RDP_BRUTE_FORCE)},
    SIGN_IN_FROM_NEW_COUNTRY: "user.name",
}


class LabelRecorder:
    """Collects, while the day is generated, which values each detection must and must not report.

    What the generator adds for the labels alone draws from `rng`, apart from the generator of
    the rest of the day, so those other records stay the same with or without the additions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._expected: dict[str, set[str]] = {rule: set() for rule in FIELDS}
        self._benign: dict[str, set[str]] = {rule: set() for rule in FIELDS}

    def expect(self, value: str, *detections: str) -> None:
        """`value` is a finding each of `detections` must report."""
        for rule in detections:
            self._expected[rule].add(value)

    def benign(self, value: str, *detections: str) -> None:
        """`value` resembles what each of `detections` looks for, but none of them may report it."""
        for rule in detections:
            self._benign[rule].add(value)

    def labels(self) -> dict[str, DetectionLabel]:
        """One label per detection, keyed by the detection's id."""
        return {
            rule: DetectionLabel(field, frozenset(self._expected[rule]), frozenset(self._benign[rule]))
            for rule, field in FIELDS.items()
        }
