"""Waiting in tests: poll a condition until it holds and fail saying what was awaited, instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold in time: an AssertionError, so pytest reports a failed check."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "the condition",
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `predicate` every `interval` seconds until it returns something truthy, and return that.

    A fixed sleep is either too short on a busy machine or too long on a quiet one; a poll is neither.
    Exceptions of the `ignoring` types count as "not yet" (e.g. a server still restarting); any other
    exception ends the wait at once. After `timeout` seconds, fails with "waited N s for <message>".
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = predicate()
        except ignoring as exc:
            last_error, result = exc, None
        if result:
            return result
        if time.monotonic() >= deadline:
            reason = f" (last error: {last_error!r})" if last_error is not None else ""
            raise WaitTimeout(f"waited {timeout:g} s for {message}{reason}")
        time.sleep(interval)
