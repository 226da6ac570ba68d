"""An S3 client stand-in for the property tests: ``get_object`` over a dict of bodies."""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError


class StubS3:
    """``get_object`` over ``{"bucket/key": body}``; a missing key answers as S3 does (NoSuchKey)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        body = self.objects.get(f"{Bucket}/{Key}")
        if body is None:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                              "GetObject")
        return {"Body": io.BytesIO(body)}
