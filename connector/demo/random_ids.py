"""Random identifiers in the alphabets AWS uses. Every one is drawn from the estate's seeded
generator, so the order of the draws fixes the bytes of every file."""

from __future__ import annotations

import random
import string
import uuid


def random_hex(rng: random.Random, n: int) -> str:
    """`n` lowercase hex digits, as in resource ids (`vpc-…`, `eni-…`) and file-name suffixes."""
    return "".join(rng.choices("0123456789abcdef", k=n))


def random_alnum(rng: random.Random, n: int) -> str:
    """`n` letters and digits, as in CloudTrail file names, session tokens and encoded messages."""
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def random_upper(rng: random.Random, n: int) -> str:
    """`n` characters of A-Z and 2-7, the alphabet of access key and principal ids."""
    return "".join(rng.choices(string.ascii_uppercase + "234567", k=n))


def random_lower(rng: random.Random, n: int) -> str:
    """`n` lowercase letters and digits, as in Config rule ids."""
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=n))


def random_uuid(rng: random.Random) -> str:
    """A version 4 UUID made of 128 bits from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
