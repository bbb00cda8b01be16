"""Tests of the agency readers; `as_stored` is a batch as the store writes it."""

from __future__ import annotations

import copy

from ioc.model import Batch
from ioc.privacy import scrub_batch


def as_stored(batch: Batch) -> Batch:
    """A copy of the batch as Store.write_batch writes it: the store is where personal data is scrubbed."""
    return scrub_batch(copy.deepcopy(batch))
