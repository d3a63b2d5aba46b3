"""The code the benchmarks work on: a ~30-line function to explain, a 5,000-line file."""

from __future__ import annotations

EXPLAIN_FILE_NAME = "ledger.py"

# The varied literal sits on the function's first body line, so a new variant shares
# only the prompt's prefix up to there (system prompt, file header, `def` line) with the
# previous request: a cold request has to evaluate almost all of the function again.
_LEDGER = '''\
"""Ledger utilities (benchmark fixture)."""

from dataclasses import dataclass


@dataclass
class Entry:
    account: str
    amount: float
    kind: str


def reconcile_ledger(entries, opening_balance=0.0, tolerance=0.005):
    # reconciliation batch {batch}
    """Replay ledger entries and report the accounts whose balance drifts."""
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    balances = {{}}
    history = {{}}
    for entry in entries:
        if entry.kind not in ("credit", "debit"):
            raise ValueError(f"unknown entry kind {{entry.kind!r}}")
        if entry.amount == 0:
            continue
        sign = 1.0 if entry.kind == "credit" else -1.0
        balance = balances.get(entry.account, opening_balance)
        balance = balance + sign * entry.amount
        balances[entry.account] = balance
        history.setdefault(entry.account, []).append(round(balance, 2))
    drifting = []
    for account in sorted(balances):
        expected = sum(history[account]) / len(history[account])
        drift = abs(balances[account] - expected)
        if drift > tolerance * max(1.0, abs(expected)):
            drifting.append((account, round(drift, 2)))
    summary = {{
        "accounts": len(balances),
        "drifting": len(drifting),
        "total": round(sum(balances.values()), 2),
        "largest_drift": max((d for _, d in drifting), default=0.0),
    }}
    return summary, drifting
'''

EXPLAIN_FUNCTION = "reconcile_ledger"


def ledger_source(batch: int) -> str:
    """The fixture with ``batch`` written into the comment inside the function."""
    return _LEDGER.format(batch=batch)


def explain_cursor(text: str) -> tuple[int, int]:
    """(line, character) of a cursor inside the function body (an empty range)."""
    for number, line in enumerate(text.splitlines()):
        if line.strip() == "balances = {}":
            return number, 4
    raise ValueError("the fixture lost its `balances = {}` line")


def function_lines(text: str) -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def reconcile_ledger"))
    end = next(i for i, line in enumerate(lines) if line.startswith("    return summary"))
    return end - start + 1


# -- a large file for document sync ----------------------------------------------------------

_BLOCK = '''\
def compute_{n}(values, scale={n}):
    """Scale and total the values of batch {n}."""
    total_{n} = 0
    note_{n} = "Größe € 价格 {n}"  # non-ASCII before the cursor
    for value in values:
        if value is None:
            continue
        scaled_{n} = value * scale
        total_{n} = total_{n} + scaled_{n}
    label_{n} = f"{{note_{n}}}: {{total_{n}}}"
    return total_{n}, label_{n}


class Holder{n}:
    """Keeps batch {n}."""

    def __init__(self, items):
        self.items = list(items)

    def size(self):
        return len(self.items)


'''


def large_python_file(lines: int = 5000) -> str:
    """Valid Python of exactly ``lines`` lines: repeated blocks, then comment lines."""
    out: list[str] = []
    n = 0
    block_lines = _BLOCK.count("\n")
    while len(out) + block_lines <= lines:
        out.extend(_BLOCK.format(n=n).splitlines())
        n += 1
    out.extend(f"# filler {i}" for i in range(lines - len(out)))
    return "\n".join(out) + "\n"


def typing_spots(text: str) -> list[tuple[int, int]]:
    """(line, UTF-16 column) where typing one character keeps the file valid Python.

    Half are at the end of a variable name (`total_7|`), half inside a string after
    non-ASCII text (`"Größe € 价格 |7"`), where UTF-16, UTF-8 and code-point columns differ.
    """
    spots: list[tuple[int, int]] = []
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped.startswith("total_") and stripped.endswith("= 0"):
            prefix = line[: line.index(" = 0")]
        elif stripped.startswith("note_"):
            prefix = line[: line.index("价格 ") + len("价格 ")]
        else:
            continue
        spots.append((number, len(prefix.encode("utf-16-le")) // 2))
    return spots
