"""GeoIP City and ASN lookups shaped as ECS ``*.geo`` and ``*.as`` objects."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from connector.errors import ConfigError

try:  # MaxMind's Rust reader decodes single fields; the C reader only whole records.
    from maxminddb_rust import InvalidDatabaseError, open_database
except ImportError:  # pragma: no cover - platforms without its wheels (musl)
    from maxminddb import InvalidDatabaseError, open_database  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAX_DATABASE_AGE_DAYS = 60
EMBEDDED_CITY_DB = "embedded"


def embedded_city_db_path() -> Path:
    """Path of the GeoLite2 City database shipped in the ``maxminddb-geolite2`` package."""
    return Path(str(resources.files("_maxminddb_geolite2").joinpath("GeoLite2-City.mmdb")))


@dataclass(frozen=True, slots=True)
class GeoIpSettings:
    """Where the databases are; ``city_db`` may be ``embedded`` for the bundled demo database."""

    city_db: str | None = EMBEDDED_CITY_DB
    asn_db: str | None = None


# A record's field by path, e.g. ("country", "iso_code"); None when the record lacks it.
FieldReader = Callable[[tuple[str | int, ...]], Any]


# Set once the databases' age has been told; worker processes inherit it and stay quiet.
AGE_TOLD_VARIABLE = "AWS_SIEM_CONNECTOR_GEOIP_AGE_TOLD"


def _open(path: str, key: str) -> Any:
    try:
        return open_database(path)
    except (OSError, ValueError, InvalidDatabaseError) as exc:
        raise ConfigError(f"geoip.{key}: cannot open MaxMind database {path!r}: {exc}") from exc


def built_on(reader: Any) -> str:
    """The database's build date, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(reader.metadata().build_epoch))


def embedded_database_line() -> str:
    """What a run on the embedded database is told, in one plain line."""
    built = built_on(_open(str(embedded_city_db_path()), "city_db"))
    return (f"GeoIP: the embedded GeoLite2 City database (built {built}) is demo data and known to be old; "
            "point geoip.city_db at a current MaxMind file for production")


def tell_database_age(settings: GeoIpSettings, environ: MutableMapping[str, str]) -> None:
    """Once per run: one plain line when the embedded demo database is used, a warning for a
    configured database older than 60 days. ``environ`` remembers it for the run's worker processes."""
    if environ.get(AGE_TOLD_VARIABLE):
        return
    environ[AGE_TOLD_VARIABLE] = "1"
    for key, path in (("city_db", settings.city_db), ("asn_db", settings.asn_db)):
        if not path:
            continue
        if path == EMBEDDED_CITY_DB:
            log.info("%s", embedded_database_line())
            continue
        reader = _open(path, key)
        age_days = (time.time() - reader.metadata().build_epoch) / 86400
        if age_days > MAX_DATABASE_AGE_DAYS:
            log.warning("geoip.%s %s is %d days old (built %s); locations drift, point it at a current MaxMind file",
                        key, path, age_days, built_on(reader))


def _dig(record: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        try:
            record = record[step]
        except (KeyError, IndexError, TypeError):
            return None
    return record


class _Database:
    """One open MaxMind database, read field by field where the reader can (see ``fields``)."""

    def __init__(self, path: str, key: str) -> None:
        self.reader = _open(path, key)
        self._get_path = getattr(self.reader, "get_path", None)
        # An IPv4-only database (some custom ones) cannot answer for IPv6: no data, not an error.
        self._ipv4_only = self.reader.metadata().ip_version == 4

    def fields(self, ip: str) -> FieldReader | None:
        """Field access to ``ip``'s record, or ``None`` when the database cannot hold one. With the
        Rust reader each field is decoded on its own: a City record holds names in eight
        languages, and decoding all of it costs three times the dozen fields used here."""
        if self._ipv4_only and ":" in ip:
            return None
        get_path = self._get_path
        if get_path is not None:
            return lambda path: get_path(ip, path)
        record = self.reader.get(ip)
        if not isinstance(record, dict):
            return None
        return lambda path: _dig(record, path)


class GeoIpLookup:
    """Resolves public addresses to ECS geo and AS objects; callers cache per address."""

    def __init__(self, settings: GeoIpSettings) -> None:
        tell_database_age(settings, os.environ)
        city = settings.city_db
        if city == EMBEDDED_CITY_DB:
            city = str(embedded_city_db_path())
        self._city = _Database(city, "city_db") if city else None
        self._asn = _Database(settings.asn_db, "asn_db") if settings.asn_db else None

    def geo(self, ip: str) -> dict[str, Any] | None:
        """ECS geo object for ``ip``, or ``None`` when the database knows nothing of it."""
        if self._city is None:
            return None
        field = self._city.fields(ip)
        if field is None:
            return None
        geo: dict[str, Any] = {}
        # The country the address is in, else the one it is registered to (as Elastic's processor).
        country = "country"
        iso_code = field(("country", "iso_code"))
        if iso_code is None:
            iso_code = field(("registered_country", "iso_code"))
            if iso_code is not None:
                country = "registered_country"
        if iso_code is not None:
            geo["country_iso_code"] = iso_code
        name = field((country, "names", "en"))
        if name:
            geo["country_name"] = name
        continent = field(("continent", "names", "en"))
        if continent:
            geo["continent_name"] = continent
        region = field(("subdivisions", 0, "names", "en"))
        if region:
            geo["region_name"] = region
        region_code = field(("subdivisions", 0, "iso_code"))
        if region_code is not None and iso_code is not None:
            geo["region_iso_code"] = f"{iso_code}-{region_code}"
        city = field(("city", "names", "en"))
        if city:
            geo["city_name"] = city
        location = field(("location",))
        if location and "latitude" in location and "longitude" in location:
            geo["location"] = {"lat": location["latitude"], "lon": location["longitude"]}
            if "time_zone" in location:
                geo["timezone"] = location["time_zone"]
        return geo or None

    def autonomous_system(self, ip: str) -> dict[str, Any] | None:
        """ECS ``as`` object (number, organization.name), or ``None`` without an ASN database."""
        if self._asn is None:
            return None
        field = self._asn.fields(ip)
        if field is None:
            return None
        number = field(("autonomous_system_number",))
        if number is None:
            return None
        out: dict[str, Any] = {"number": number}
        org = field(("autonomous_system_organization",))
        if org:
            out["organization"] = {"name": org}
        return out

    def close(self) -> None:
        """Release the memory-mapped databases."""
        for database in (self._city, self._asn):
            if database is not None:
                database.reader.close()
