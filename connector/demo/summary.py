"""What a SOC analyst looks at first after the demo run: volumes, rejected sources, failed logins."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.sinks.base import Batch, Delivery, Sink
from connector.sinks.factory import needs_originals


@dataclass
class DemoFindings:
    """Tallies taken from the normalized documents themselves."""

    documents: Counter[str] = field(default_factory=Counter)
    rejected_sources: Counter[str] = field(default_factory=Counter)
    source_country: dict[str, str] = field(default_factory=dict)
    failed_logins: Counter[str] = field(default_factory=Counter)
    root_logins: int = 0
    trail_changes: Counter[str] = field(default_factory=Counter)
    non_compliant: set[str] = field(default_factory=set)
    # (matched address or name, matched field, feed) -> documents marked by threat intel
    known_bad: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def add(self, doc: dict[str, Any], dataset: str) -> None:
        """Count one document."""
        self.documents[dataset] += 1
        threat = doc.get("threat")
        if threat:
            for match in threat.get("enrichments", ()):
                matched = match.get("matched", {})
                self.known_bad[matched.get("atomic", "?"), matched.get("field", "?"),
                               match.get("feed", {}).get("name", "?")] += 1
        event = doc.get("event", {})
        if dataset == "aws.vpcflow":
            if event.get("action") == "REJECT":
                source = doc.get("source", {})
                ip = source.get("ip")
                if ip:
                    self.rejected_sources[ip] += 1
                    geo = source.get("geo")
                    if geo and ip not in self.source_country:
                        self.source_country[ip] = geo.get("country_iso_code", "")
        elif dataset == "aws.cloudtrail":
            action = event.get("action")
            if action == "ConsoleLogin":
                user = doc.get("user", {}).get("name", "?")
                if event.get("outcome") == "failure":
                    self.failed_logins[user] += 1
                if doc.get("aws", {}).get("cloudtrail", {}).get("user_identity", {}).get("type") == "Root":
                    self.root_logins += 1
            elif action in ("StopLogging", "StartLogging", "DeleteTrail", "UpdateTrail"):
                self.trail_changes[action] += 1
        elif dataset == "aws.config":
            compliance = doc.get("aws", {}).get("config", {}).get("compliance", {})
            if compliance.get("type") == "NON_COMPLIANT":
                names = doc.get("rule", {}).get("name")
                for name in names if isinstance(names, list) else [names]:
                    if name:
                        self.non_compliant.add(name)

    def render(self, console: Console) -> None:
        """Print the tables."""
        volumes = Table(title="Documents per dataset")
        volumes.add_column("dataset")
        volumes.add_column("documents", justify="right")
        for dataset, count in sorted(self.documents.items()):
            volumes.add_row(dataset, f"{count:,}")
        console.print(volumes)

        rejected = Table(title="Top rejected sources")
        rejected.add_column("source.ip")
        rejected.add_column("country")
        rejected.add_column("rejected flows", justify="right")
        for ip, count in self.rejected_sources.most_common(8):
            rejected.add_row(ip, self.source_country.get(ip, "-"), f"{count:,}")
        console.print(rejected)

        logins = Table(title="Failed console logins by user")
        logins.add_column("user.name")
        logins.add_column("failures", justify="right")
        for user, count in self.failed_logins.most_common():
            logins.add_row(user, str(count))
        console.print(logins)

        if self.known_bad:
            marked = Table(title="Known-bad addresses (threat.enrichments)")
            for column in ("matched.atomic", "matched.field", "feed"):
                marked.add_column(column)
            marked.add_column("documents", justify="right")
            for (atomic, matched_field, feed), count in sorted(self.known_bad.items(), key=lambda kv: -kv[1]):
                marked.add_row(atomic, matched_field, feed, f"{count:,}")
            console.print(marked)

        notes = [f"root console logins: {self.root_logins}"]
        notes += [f"CloudTrail {action}: {count}" for action, count in sorted(self.trail_changes.items())]
        if self.non_compliant:
            notes.append("non-compliant Config rules: " + ", ".join(sorted(self.non_compliant)))
        console.print("\n".join(notes))


def render_skips(skipped_by_rule: Counter[str], console: Console) -> None:
    """The records each rule (a filter rule or a built-in one) left out, when any did."""
    if not skipped_by_rule:
        return
    table = Table(title="Skipped by rule")
    table.add_column("rule")
    table.add_column("records or objects", justify="right")
    for rule, count in sorted(skipped_by_rule.items(), key=lambda kv: -kv[1]):
        table.add_row(rule, f"{count:,}")
    console.print(table)


class FindingsSink:
    """Passes batches to the real sink and tallies what was delivered."""

    def __init__(self, inner: Sink, findings: DemoFindings) -> None:
        self._inner = inner
        self.findings = findings

    @property
    def needs_originals(self) -> bool:
        """Mirror the real sink."""
        return needs_originals(self._inner)

    def send(self, batch: Batch) -> Delivery:
        """Deliver, then count the batch."""
        delivery = self._inner.send(batch)
        add = self.findings.add
        for doc, dataset in zip(batch.docs, batch.datasets, strict=True):
            add(doc, dataset)
        return delivery

    def close(self) -> None:
        """Close the wrapped sink."""
        self._inner.close()
