"""Keeps the cyclic garbage collector out of per-record loops.

Documents are acyclic dicts freed by reference counting; letting the collector rescan
thousands of young documents every 700 allocations costs more than the mapping itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the duration of a hot loop."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
