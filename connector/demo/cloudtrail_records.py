"""How CloudTrail records a call: the principals of both accounts, and the API call and console
sign-in records they leave, counted as they are made for the manifest."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from connector.demo.actors import DEV, PROD, REGION, UA_BROWSER
from connector.demo.aws_formats import iso_seconds
from connector.demo.labels import LabelRecorder
from connector.demo.random_ids import random_hex, random_upper, random_uuid
from connector.demo.resources import Estate

TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation")


@dataclass(frozen=True)
class Principal:
    """Who made a call: the `userIdentity` block of its records, and its user or session name."""

    identity: dict[str, Any]
    name: str


class TrailRecorder:
    """The principals of both accounts and the management events they make, counted as they are
    recorded; `labels` takes what each detection must find among them."""

    def __init__(self, rng: random.Random, estate: Estate, day: dt.date, day0: int, labels: LabelRecorder) -> None:
        self.rng = rng
        self.labels = labels
        self.estate = estate
        self.day = day
        self.day0 = day0
        self.events: list[tuple[str, str, dict[str, Any]]] = []  # (account, region, record)
        self.login_failures: Counter[str] = Counter()
        self.login_successes = 0
        self.root_logins = 0
        self.access_denied = 0
        self.event_names: Counter[str] = Counter()
        self.scenario_event_ids: dict[str, str] = {}
        # Ids of what the planted incidents create; AWS Config records the same resources later.
        self.sgr_ssh = "sgr-" + random_hex(rng, 17)
        self.debug_sg = "sg-" + random_hex(rng, 17)
        self.new_dev_instance = "i-" + random_hex(rng, 17)
        self.tmp_user_id = "AIDA" + random_upper(rng, 17)
        self.tmp_key = "AKIA" + random_upper(rng, 16)
        self.users = {
            n: self._iam_user(acct, n)
            for acct, n in (
                (PROD, "alice"),
                (PROD, "bob"),
                (PROD, "carol"),
                (PROD, "svc-reporting"),
                (DEV, "dave"),
            )
        }
        self.root = Principal(
            {
                "type": "Root",
                "principalId": PROD,
                "arn": f"arn:aws:iam::{PROD}:root",
                "accountId": PROD,
                "accessKeyId": "",
            },
            "root",
        )
        self.sso_dana = self._role(
            PROD,
            "AWSReservedSSO_ReadOnly_5f2c1e9a7b3d4c60",
            "dana@acme.example",
            "aws-reserved/sso.amazonaws.com/",
        )
        self.dev_terraform = self._role(DEV, "terraform-apply", "terraform-run-4711", "")
        self.dev_ci = self._role(DEV, "dev-ci-deploy", "GitHubActions", "")
        self.config_role = self._role(
            PROD, "AWSServiceRoleForConfig", "AWSConfig-Describe", "aws-service-role/config.amazonaws.com/"
        )
        self.eu_monitor = self._role(PROD, "monitoring-readonly", "prometheus-exporter", "")
        self.instance_roles = {
            n: self._role(PROD, "prod-ec2-ssm", e.instance_id, "")
            for n, e in estate.enis.items()
            if e.account == PROD and e.instance_id != "-"
        }

    # identities

    def _iam_user(self, account: str, name: str) -> Principal:
        return Principal(
            {
                "type": "IAMUser",
                "principalId": "AIDA" + random_upper(self.rng, 17),
                "arn": f"arn:aws:iam::{account}:user/{name}",
                "accountId": account,
                "accessKeyId": "AKIA" + random_upper(self.rng, 16),
                "userName": name,
            },
            name,
        )

    def _role(self, account: str, role: str, session: str, path: str) -> Principal:
        role_id = "AROA" + random_upper(self.rng, 17)
        return Principal(
            {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                "accountId": account,
                "accessKeyId": "ASIA" + random_upper(self.rng, 16),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": f"arn:aws:iam::{account}:role/{path}{role}",
                        "accountId": account,
                        "userName": role,
                    },
                    "webIdFederationData": {},
                    "attributes": {"creationDate": iso_seconds(self.day0), "mfaAuthenticated": "false"},
                },
            },
            session,
        )

    # record builders

    def api_call(
        self,
        account: str,
        region: str,
        t: int,
        who: Principal | str,
        source: str,
        name: str,
        ip: str,
        agent: str,
        request: Any,
        response: Any = None,
        *,
        read_only: bool,
        error: tuple[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        tag: str | None = None,
        planted: bool = False,
    ) -> str:
        """Record one AwsApiCall and return its eventID; `who` is a principal or the service that
        invoked the call; `planted` (added for the labels alone) draws its ids from the labels' generator."""
        r = self.labels.rng if planted else self.rng
        if isinstance(who, str):
            identity: dict[str, Any] = {"type": "AWSService", "invokedBy": who}
        else:
            identity = who.identity
        service = source.split(".")[0]
        rec: dict[str, Any] = {
            "eventVersion": "1.09" if service in ("ec2", "s3") else "1.08",
            "userIdentity": identity,
            "eventTime": iso_seconds(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error:
            rec["errorCode"], rec["errorMessage"] = error
            self.access_denied += error[0] in ACCESS_DENIED_CODES
        rec["requestParameters"] = request
        rec["responseElements"] = None if error else response
        rec.update(extra or {})
        rec["requestID"] = random_uuid(r)
        rec["eventID"] = random_uuid(r)
        rec["readOnly"] = read_only
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = True
        rec["recipientAccountId"] = account
        if isinstance(who, str):
            rec["sharedEventID"] = random_uuid(r)
        rec["eventCategory"] = "Management"
        if not isinstance(who, str) and not ip.endswith("amazonaws.com"):
            host = (
                f"{service}.amazonaws.com" if service in ("iam", "sts", "s3") else f"{service}.{region}.amazonaws.com"
            )
            rec["tlsDetails"] = {**TLS, "clientProvidedHostHeader": host}
        self.events.append((account, region, rec))
        self.event_names[name] += 1
        if tag:
            self.scenario_event_ids[tag] = rec["eventID"]
        return str(rec["eventID"])

    def console_login(
        self,
        account: str,
        t: int,
        who: Principal,
        ip: str,
        ok: bool,
        *,
        mfa: bool = True,
        agent: str = UA_BROWSER,
        unknown_user: bool = False,
        planted: bool = False,
    ) -> str:
        """Record one ConsoleLogin and return its eventID; `unknown_user` stands for a typed name that
        matches no user; `planted` (added for the labels alone) draws its ids from the labels' generator."""
        r = self.labels.rng if planted else self.rng
        identity = dict(who.identity)
        identity["accessKeyId"] = ""
        if unknown_user:
            # AWS hides the typed name when it matches no user, so it never leaks a password.
            identity = {
                "type": "IAMUser",
                "accountId": account,
                "accessKeyId": "",
                "userName": "HIDDEN_DUE_TO_SECURITY_REASONS",
            }
        rec: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": iso_seconds(t),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": REGION,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if not ok:
            rec["errorMessage"] = "No username found in supplied account" if unknown_user else "Failed authentication"
        rec["requestParameters"] = None
        rec["responseElements"] = {"ConsoleLogin": "Success" if ok else "Failure"}
        login_to = (
            "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"
            + random_hex(r, 16)
        )
        rec["additionalEventData"] = {
            "LoginTo": login_to,
            "MobileVersion": "No",
            "MFAUsed": "Yes" if ok and mfa else "No",
        }
        if ok and mfa:
            rec["additionalEventData"]["MFAIdentifier"] = (
                f"arn:aws:iam::{account}:mfa/{who.name}"
                if who.name != "root"
                else f"arn:aws:iam::{account}:mfa/root-account-mfa-device"
            )
        rec.update(
            {
                "eventID": random_uuid(r),
                "readOnly": False,
                "eventType": "AwsConsoleSignIn",
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
                "tlsDetails": {**TLS, "clientProvidedHostHeader": "signin.aws.amazon.com"},
            }
        )
        self.events.append((account, REGION, rec))
        self.event_names["ConsoleLogin"] += 1
        if ok:
            self.login_successes += 1
            self.root_logins += identity["type"] == "Root"
        else:
            self.login_failures[identity["userName"]] += 1
        return str(rec["eventID"])
