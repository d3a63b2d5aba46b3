"""Test helpers shared by the async cases' tests.

`run(value)` awaits `value` under `asyncio.run` when the function returned an
awaitable (the converted, async version), and passes a plain value through (the
original, sync version), so the same tests judge both.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


async def _await(value: Any) -> Any:
    return await value


def run(value: Any) -> Any:
    if inspect.isawaitable(value):
        return asyncio.run(_await(value))
    return value
