"""GeoIP City and ASN lookups shaped as ECS ``*.geo`` and ``*.as`` objects."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import maxminddb

from connector.errors import ConfigError

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


def _open(path: str, key: str) -> maxminddb.Reader:
    try:
        reader = maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise ConfigError(f"geoip.{key}: cannot open MaxMind database {path!r}: {exc}") from exc
    age_days = (time.time() - reader.metadata().build_epoch) / 86400
    if age_days > MAX_DATABASE_AGE_DAYS:
        log.warning(
            "geoip.%s %s is %d days old (built %s); locations drift, point it at a current MaxMind file",
            key, path, age_days, time.strftime("%Y-%m-%d", time.gmtime(reader.metadata().build_epoch)),
        )
    return reader


class GeoIpLookup:
    """Resolves public addresses to ECS geo and AS objects; callers cache per address."""

    def __init__(self, settings: GeoIpSettings) -> None:
        city = settings.city_db
        if city == EMBEDDED_CITY_DB:
            city = str(embedded_city_db_path())
        self._city = _open(city, "city_db") if city else None
        self._asn = _open(settings.asn_db, "asn_db") if settings.asn_db else None

    def geo(self, ip: str) -> dict[str, Any] | None:
        """ECS geo object for ``ip``, or ``None`` when the database knows nothing of it."""
        if self._city is None:
            return None
        rec: Any = self._city.get(ip)
        if not isinstance(rec, dict):
            return None
        geo: dict[str, Any] = {}
        country = rec.get("country") or rec.get("registered_country")
        if country:
            if "iso_code" in country:
                geo["country_iso_code"] = country["iso_code"]
            name = country.get("names", {}).get("en")
            if name:
                geo["country_name"] = name
        continent = rec.get("continent")
        if continent and continent.get("names", {}).get("en"):
            geo["continent_name"] = continent["names"]["en"]
        subdivisions = rec.get("subdivisions")
        if subdivisions:
            sub = subdivisions[0]
            if sub.get("names", {}).get("en"):
                geo["region_name"] = sub["names"]["en"]
            if "iso_code" in sub and "country_iso_code" in geo:
                geo["region_iso_code"] = f"{geo['country_iso_code']}-{sub['iso_code']}"
        city = rec.get("city")
        if city and city.get("names", {}).get("en"):
            geo["city_name"] = city["names"]["en"]
        location = rec.get("location")
        if location and "latitude" in location and "longitude" in location:
            geo["location"] = {"lat": location["latitude"], "lon": location["longitude"]}
            if "time_zone" in location:
                geo["timezone"] = location["time_zone"]
        return geo or None

    def autonomous_system(self, ip: str) -> dict[str, Any] | None:
        """ECS ``as`` object (number, organization.name), or ``None`` without an ASN database."""
        if self._asn is None:
            return None
        rec: Any = self._asn.get(ip)
        if not isinstance(rec, dict) or "autonomous_system_number" not in rec:
            return None
        out: dict[str, Any] = {"number": rec["autonomous_system_number"]}
        org = rec.get("autonomous_system_organization")
        if org:
            out["organization"] = {"name": org}
        return out

    def close(self) -> None:
        """Release the memory-mapped databases."""
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
