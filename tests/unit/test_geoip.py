"""GeoIP lookups: field-by-field reads equal whole-record reads; ASN fields; IPv4-only databases."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import maxminddb
import orjson
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from connector.config import load_config
from connector.enrich import geoip
from connector.enrich.addresses import AddressBook
from connector.enrich.geoip import GeoIpLookup, GeoIpSettings
from connector.pipeline import RecordProcessor
from tests.unit._support import FLOW_KEY, V2_HEADER, gz, run_pipeline, unit, v2_line

SAMPLE = ["81.2.69.160", "89.160.20.156", "2a02:cf40::1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "1.1.1.1",
          "175.16.199.1", "216.160.83.56", "202.196.224.1"]


@pytest.fixture(scope="module")
def city() -> Iterator[GeoIpLookup]:
    lookup = GeoIpLookup(GeoIpSettings())
    yield lookup
    lookup.close()


def test_field_reads_give_the_same_geo_as_whole_record_decoding(city: GeoIpLookup,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(5)
    addresses = SAMPLE + [f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
                          for _ in range(3000)]
    # MaxMind's C reader, the fallback where the Rust wheel is missing, decodes whole records.
    monkeypatch.setattr(geoip, "open_database", maxminddb.open_database)
    whole = GeoIpLookup(GeoIpSettings())
    found = 0
    for address in addresses:
        expected = whole.geo(address)
        assert city.geo(address) == expected, address
        found += expected is not None
    assert found > 2500, "most public addresses resolve in the embedded database"
    whole.close()


def test_city_geo_fields_for_a_known_address(city: GeoIpLookup) -> None:
    geo = city.geo("89.160.20.156")
    assert geo is not None
    assert (geo["country_iso_code"], geo["country_name"], geo["continent_name"]) == ("SE", "Sweden", "Europe")
    # What the embedded 2018 GeoLite2 database says of this address.
    assert (geo["city_name"], geo["region_name"], geo["region_iso_code"]) == ("Stockholm", "Stockholm", "SE-AB")
    assert geo["location"] == {"lat": 59.3333, "lon": 18.05} and geo["timezone"] == "Europe/Stockholm"
    assert city.geo("2001:db8::1") is None  # documentation prefix: not in the database


@pytest.fixture(scope="module")
def asn_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ASN database as MaxMind builds them (IPv6 tree holding IPv4 too) and an IPv4-only one."""
    directory = tmp_path_factory.mktemp("asn")
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN", int_type="u32")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"autonomous_system_number": 20712,
                                                     "autonomous_system_organization": "Andrews & Arnold Ltd"})
    writer.insert_network(IPSet(["2a02:cf40::/32"]), {"autonomous_system_number": 29518})
    writer.to_db_file(str(directory / "asn.mmdb"))
    v4 = MMDBWriter(ip_version=4, database_type="GeoLite2-ASN", int_type="u32")
    v4.insert_network(IPSet(["81.2.69.0/24"]), {"autonomous_system_number": 20712})
    v4.to_db_file(str(directory / "asn-v4.mmdb"))
    return directory


def test_asn_database_gives_ecs_as_fields(asn_db: Path) -> None:
    lookup = GeoIpLookup(GeoIpSettings(city_db=None, asn_db=str(asn_db / "asn.mmdb")))
    assert lookup.autonomous_system("81.2.69.160") == {"number": 20712,
                                                       "organization": {"name": "Andrews & Arnold Ltd"}}
    assert lookup.autonomous_system("2a02:cf40::1") == {"number": 29518}
    assert lookup.autonomous_system("8.8.8.8") is None
    assert lookup.geo("81.2.69.160") is None  # no City database configured
    lookup.close()


def test_ipv6_address_against_an_ipv4_only_database_has_no_as_fields(asn_db: Path) -> None:
    lookup = GeoIpLookup(GeoIpSettings(city_db=None, asn_db=str(asn_db / "asn-v4.mmdb")))
    assert lookup.autonomous_system("81.2.69.160") == {"number": 20712}
    assert lookup.autonomous_system("2a02:cf40::1") is None
    lookup.close()


def test_flow_documents_carry_as_fields_from_the_configured_database(asn_db: Path) -> None:
    config = load_config(None, {}, {"geoip": {"asn_db": str(asn_db / "asn-v4.mmdb")}})
    processor = RecordProcessor(config)
    lines = [V2_HEADER, v2_line(src="81.2.69.160", dst="10.0.0.6"), v2_line(src="2a02:cf40::1", dst="2a02:cf40::2")]
    summary, sink, dlq = run_pipeline(processor, [unit(gz("\n".join(lines)), FLOW_KEY)])
    processor.close()
    assert (summary.written, len(dlq.letters)) == (2, 0)
    first, second = sink.docs
    assert first["source"]["as"] == {"number": 20712}
    assert first["source"]["geo"]["country_iso_code"] == "GB"
    assert "as" not in second["source"] and second["source"]["geo"]["country_iso_code"] == "DK"


def test_address_book_shares_one_geo_object_per_answer_and_stays_bounded() -> None:
    # Flow logs from an internet-wide scan name millions of addresses: the cache must stay small.
    book = AddressBook(GeoIpLookup(GeoIpSettings()), max_entries=1000)
    first, second = book.lookup("81.2.69.160"), book.lookup("81.2.69.161")  # one network, one record
    assert first is not None and second is not None
    assert first.geo is second.geo and first.place_json is second.place_json
    assert orjson.loads(bytes(orjson.dumps({"geo": first.geo})))["geo"]["country_iso_code"] == "GB"
    assert book.lookup("10.0.0.1") == ("10.0.0.1", "ipv4", bytes([10, 0, 0, 1]), False, None, None, "")
    rnd = random.Random(9)
    tracemalloc.start()
    for _ in range(5000):
        book.lookup(f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}")
    used, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(book._cache) <= 1000
    assert used < 1000 * 1500, "about 400 bytes an address with geo, not the 1.5 KB of per-address dicts"


def _run_normalize(tmp_path: Path, *flags: str) -> list[str]:
    import os
    import subprocess
    import sys

    path = tmp_path / "flows.log"
    path.write_text(f"{V2_HEADER}\n{v2_line(src='81.2.69.160')}\n")
    env = {k: v for k, v in os.environ.items() if k != geoip.AGE_TOLD_VARIABLE}
    done = subprocess.run([sys.executable, "-m", "connector", "normalize", "--type", "vpcflow", *flags, str(path)],
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    return [line for line in done.stderr.splitlines() if "GeoLite2" in line or "days old" in line]


def test_the_embedded_database_is_named_old_once_in_one_plain_line(tmp_path: Path) -> None:
    (line,) = _run_normalize(tmp_path)
    assert "embedded GeoLite2 City database (built 2018-07-03) is demo data and known to be old" in line
    assert '"level":"info"' in line and "geoip.city_db" in line


def test_a_stale_configured_database_gets_a_warning(tmp_path: Path) -> None:
    (line,) = _run_normalize(tmp_path, "--geoip-city", str(geoip.embedded_city_db_path()))
    assert '"level":"warning"' in line and "days old (built 2018-07-03)" in line


def test_the_age_is_told_once_per_run_whatever_the_number_of_lookups(caplog: pytest.LogCaptureFixture) -> None:
    environ: dict[str, str] = {}
    with caplog.at_level("INFO", logger="connector.enrich.geoip"):
        for _ in range(3):
            geoip.tell_database_age(GeoIpSettings(), environ)
    assert [r.getMessage() for r in caplog.records] == [geoip.embedded_database_line()]
    assert environ == {geoip.AGE_TOLD_VARIABLE: "1"}  # worker processes inherit it and stay quiet
