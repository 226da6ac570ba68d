"""Line-based feeds: a plain list (one indicator a line) and CSV with a header row.

Real feeds put a banner of ``#`` comment lines first; abuse.ch's Feodo Tracker CSV has its header
after the banner, ThreatFox's CSV has it inside the banner as the last comment line
(``# "first_seen_utc","ioc_id","ioc_value",…``). Both are found.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from connector.threat_intel.entries import Entry, FeedFormatError
from connector.threat_intel.indicators import canonical_value

# Names of the indicator column, most specific first (looked up after lower-casing, with spaces
# and dashes as underscores).
INDICATOR_COLUMNS = (
    "indicator", "ioc", "ioc_value", "observable", "value",
    "ip", "ip_address", "ipaddress", "ip_addr", "ipv4", "ipv6", "address", "addr",
    "dst_ip", "dest_ip", "destination_ip", "src_ip", "source_ip",
    "cidr", "network", "subnet", "netblock", "prefix", "range",
    "domain", "domain_name", "fqdn", "hostname", "host",
)
_DESCRIPTION = ("description", "comment", "comments", "malware_printable", "malware", "threat", "threat_type",
                "tags")
_FIRST_SEEN = ("first_seen_utc", "first_seen", "firstseen", "first_seen_date", "dateadded", "date_added",
               "created", "created_at")
_LAST_SEEN = ("last_seen_utc", "last_seen", "lastseen", "last_seen_date", "last_online")
_CONFIDENCE = ("confidence", "confidence_level")
_REFERENCE = ("reference", "reference_url", "link", "threatfox_link", "urlhaus_link")


def plain_entries(text: str) -> Iterator[Entry]:
    """One indicator a line; ``#`` and ``;`` start comments (whole-line or trailing, as in
    Spamhaus DROP's ``1.10.16.0/20 ; SBL256894``); blank lines are skipped."""
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].split(";", 1)[0].strip()
        if value:
            yield Entry(value, f"line {number}")


def csv_entries(text: str, column: str | None) -> Iterator[Entry]:
    """Rows of a CSV feed with a header; the indicator column is ``column`` or found by name."""
    lines = text.splitlines()
    header, first_data = _header(lines, column, 1)
    names = [_column_name(name) for name in header]
    if column is not None:
        wanted = _column_name(column)
        if wanted not in names:
            raise FeedFormatError(f"column {column!r} is not in the CSV header ({', '.join(header)})")
        index = names.index(wanted)
    else:
        found = indicator_column(names)
        if found is None:
            raise FeedFormatError(f"no indicator column in the CSV header ({', '.join(header)}); "
                                  "name it with column:")
        index = found
    meta = [_find(names, choices, index) for choices in (_DESCRIPTION, _FIRST_SEEN, _LAST_SEEN, _CONFIDENCE,
                                                         _REFERENCE)]
    number = first_data

    def data_lines() -> Iterator[str]:
        nonlocal number
        for number in range(first_data, len(lines)):
            line = lines[number]
            if line.strip() and not line.lstrip().startswith("#"):
                yield line

    for row in csv.reader(data_lines()):
        where = f"line {number + 1}"
        if len(row) <= index:
            yield Entry(",".join(row), where)  # a short row: counted as not an indicator
            continue
        extra = [row[i] if 0 <= i < len(row) else None for i in meta]
        yield Entry(row[index], where, *extra)


def looks_like_csv(text: str, column: str | None) -> bool:
    """The ``auto`` test: the first non-comment line is a header of two or more columns (or data
    under a commented header that names the indicator column)."""
    try:
        _header(text.splitlines()[:4096], column, 2)
    except FeedFormatError:
        return False
    return True


def indicator_column(names: list[str]) -> int | None:
    """Index of the indicator column among normalized header names."""
    for choice in INDICATOR_COLUMNS:
        if choice in names:
            return names.index(choice)
    return None


def _header(lines: list[str], column: str | None, min_cells: int) -> tuple[list[str], int]:
    """The header row and the index of the first line after it."""
    last_comment = ""
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            last_comment = stripped.lstrip("#").strip()
            continue
        row = _row(stripped)
        if len(row) >= min_cells and _headerish(row):
            return row, number + 1
        commented = _row(last_comment) if last_comment else []
        if (len(row) >= min_cells and len(commented) >= 2 and _headerish(commented)
                and _names_indicator(commented, column)):
            return commented, number
        raise FeedFormatError(f"no CSV header row (line {number + 1} holds data; a CSV feed needs a header "
                              "naming its columns)")
    raise FeedFormatError("no CSV header row (the feed holds only comments)")


def _row(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _headerish(row: list[str]) -> bool:
    """Names, not values: some cell has a letter and none starts with an indicator (``1.2.3.4 # c2, x``
    is a plain line with a comment, not a header)."""
    if not any(any(c.isalpha() for c in cell) for cell in row):
        return False
    return not any(canonical_value(cell.split()[0]) for cell in row if cell.split())


def _names_indicator(row: list[str], column: str | None) -> bool:
    names = [_column_name(name) for name in row]
    if column is not None:
        return _column_name(column) in names
    return indicator_column(names) is not None


def _column_name(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _find(names: list[str], choices: tuple[str, ...], skip: int) -> int:
    for choice in choices:
        if choice in names and names.index(choice) != skip:
            return names.index(choice)
    return -1
