"""Functions that wait with time.sleep."""

import time


def retry_call(func, attempts=3, delay=0.01):
    """Call func() until it succeeds, sleeping between attempts; re-raise the last error."""
    last_error = None
    for attempt in range(attempts):
        try:
            return func()
        except Exception as exc:
            last_error = exc
            if attempt < attempts - 1:
                time.sleep(delay)
    raise last_error


def countdown(n, delay=0.001):
    """The numbers n, n-1, ..., 1, one per tick."""
    seen = []
    while n > 0:
        seen.append(n)
        time.sleep(delay)
        n -= 1
    return seen


def wait_until(predicate, timeout=0.5, interval=0.005):
    """Poll predicate() until it is true or the timeout passes; return whether it became true."""
    waited = 0.0
    while waited < timeout:
        if predicate():
            return True
        time.sleep(interval)
        waited += interval
    return bool(predicate())


def throttled_map(func, items, delay=0.001):
    """func applied to each item, pausing between calls."""
    results = []
    for i, item in enumerate(items):
        if i:
            time.sleep(delay)
        results.append(func(item))
    return results


async def countdowns(sizes):
    out = []
    for n in sizes:
        out.append(countdown(n))
    return out


async def squares_slowly(items):
    return throttled_map(lambda x: x * x, items)


def countdown_text(n):
    return ", ".join(str(x) for x in countdown(n))
