"""Request bodies are plain gzip whichever engine compresses them."""

from __future__ import annotations

import gzip

import pytest

from connector.gzip_codec import HAVE_ISAL, engine, gzip_compressor

BODY = b"".join(b'{"create":{"_id":"%d"}}\n{"source":{"ip":"10.0.%d.%d"},"event":{"action":"accept"}}\n'
                % (n, n % 250, n % 199) for n in range(20_000))


@pytest.mark.parametrize("level", range(1, 10))
def test_every_level_writes_gzip_that_any_reader_inflates(level: int) -> None:
    compressed = gzip_compressor(level)(BODY)
    assert compressed[:2] == b"\x1f\x8b"
    assert gzip.decompress(compressed) == BODY
    assert len(compressed) < len(BODY) / 5


def test_low_levels_use_isal_and_high_levels_zlib() -> None:
    assert HAVE_ISAL, "the isal wheel is a runtime dependency"
    assert [engine(level) for level in range(1, 10)] == ["isal"] * 3 + ["zlib"] * 6


@pytest.mark.parametrize("level", [0, 10, -1])
def test_levels_outside_1_to_9_are_refused(level: int) -> None:
    with pytest.raises(ValueError, match="gzip level must be 1 to 9"):
        gzip_compressor(level)
