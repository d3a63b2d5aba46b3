"""Functions with no blocking call at all."""


def normalize_scores(scores):
    """Scale scores to 0..1 (all equal -> all 0.0)."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high == low:
        return [0.0 for _ in scores]
    return [(s - low) / (high - low) for s in scores]


def merge_counts(first, second):
    """Add two word-count dicts."""
    merged = dict(first)
    for key, value in second.items():
        merged[key] = merged.get(key, 0) + value
    return merged


def parse_duration(text):
    """'1h30m15s' -> seconds; a bare number is seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    total, number = 0, ""
    for ch in text.strip():
        if ch.isdigit():
            number += ch
        elif ch in units and number:
            total += int(number) * units[ch]
            number = ""
        else:
            raise ValueError(f"bad duration: {text!r}")
    return total + (int(number) if number else 0)


def chunk(items, size):
    """Consecutive slices of at most `size` items."""
    if size <= 0:
        raise ValueError("size must be positive")
    return [items[i:i + size] for i in range(0, len(items), size)]


async def durations(texts):
    return [parse_duration(t) for t in texts]


def chunk_count(items, size):
    return len(chunk(items, size))
