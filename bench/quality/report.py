"""The Markdown tables of a run: per action and language, server beside baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "–"


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _secs(values: list[float], q: float) -> str:
    v = _quantile(values, q)
    return "–" if v is None else f"{v:.1f}"


def rewrite_row(recs: list[dict]) -> dict[str, Any]:
    n = len(recs)
    applied = [r for r in recs if r.get("state") == "applied"]
    row = {
        "cases": n,
        "applied": _pct(len(applied), n),
        "refused": _pct(sum(r.get("state") == "refused" for r in recs), n),
        "unchanged": _pct(sum(r.get("state") == "unchanged" for r in recs), n),
        "errors": _pct(sum(r.get("state") == "error" for r in recs), n),
        "tests pass (of applied)": _pct(sum(bool(r.get("tests_pass")) for r in applied),
                                        len(applied)),
        "AST changed (of applied)": _pct(sum(bool(r.get("changed")) for r in applied),
                                         len(applied)),
        "substantive (of applied)": _pct(sum(bool(r.get("substantive")) for r in applied),
                                         len(applied)),
        "broken applied (of all)": _pct(sum(not r.get("tests_pass") for r in applied), n),
        "unparseable applied (of all)": _pct(sum(r.get("parses") is False for r in applied), n),
        "passing & substantive (of all)": _pct(
            sum(bool(r.get("tests_pass") and r.get("substantive")) for r in applied), n),
    }
    return row


def async_extra(recs: list[dict]) -> dict[str, Any]:
    n = len(recs)
    row = {"async & tests pass": _pct(sum(bool(r.get("async_ok")) for r in recs), n)}
    listed = [r for r in recs if r.get("sync_callers")]
    if listed:
        row["sync callers in notes"] = _pct(sum(bool(r.get("sync_callers_listed"))
                                                for r in listed), len(listed))
    return row


EXPLAIN_CHECKS = ["all", "names_function", "names_params", "returns_section",
                  "no_invented_identifiers", "within_length", "mostly_chinese",
                  "chinese_labels"]


def explain_row(recs: list[dict]) -> dict[str, Any]:
    answered = [r for r in recs if "checks" in r]
    row: dict[str, Any] = {"cases": len(recs),
                           "answered": _pct(len(answered), len(recs))}
    for check in EXPLAIN_CHECKS:
        have = [r for r in answered if check in r["checks"]]
        if have:
            row[check] = _pct(sum(bool(r["checks"][check]) for r in have), len(recs))
    return row


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Metrics as rows, one column per (language, server/baseline)."""
    keys: list[str] = []
    for _, row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    lines = ["| | " + " | ".join(label for label, _ in rows) + " |",
             "|---" * (len(rows) + 1) + "|"]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(str(row.get(k, "–")) for _, row in rows) + " |")
    return "\n".join(lines)


def markdown(meta: dict, records: list[dict]) -> str:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((r["action"], r["language"], r["answer_language"]), []).append(r)
    m = meta.get("machine", {})
    out = [f"Quality run {meta.get('started')}: commit {m.get('commit')}"
           + (" (qwen_lsp/ has uncommitted changes)" if m.get("qwen_lsp_dirty") else "")
           + f", {m.get('cpu')}, {m.get('cores')} cores {m.get('llama_flags', '')}, "
           f"server cache {'on' if meta.get('server', {}).get('cache_enabled') else 'off'}, "
           f"{len(records)} tasks in {meta.get('seconds', '?')} s."]
    for action in ("refactor", "async"):
        rows = []
        for (a, lang, _), recs in sorted(groups.items()):
            if a != action:
                continue
            for who in ("server", "baseline"):
                side = [r[who] for r in recs if who in r]
                if not side:
                    continue
                row = rewrite_row(side)
                if action == "async":
                    row.update(async_extra(side))
                secs = [s["seconds"] for s in side if "seconds" in s]
                row["p50 s"], row["p90 s"] = _secs(secs, 0.5), _secs(secs, 0.9)
                rows.append((f"{lang} {who}", row))
        if rows:
            out += ["", f"**{action}**", "", _table(rows)]
    rows = []
    for (a, lang, answer), recs in sorted(groups.items()):
        if a != "explain":
            continue
        for who in ("server", "baseline"):
            side = [r[who] for r in recs if who in r]
            if not side:
                continue
            row = explain_row(side)
            secs = [s["seconds"] for s in side if "seconds" in s]
            row["p50 s"], row["p90 s"] = _secs(secs, 0.5), _secs(secs, 0.9)
            rows.append((f"{lang} {answer} {who}", row))
    if rows:
        out += ["", "**explain** (checks: the share of cases that pass each)", "", _table(rows)]
    restarts = sum(bool(r.get("server", {}).get("server_restarted")) for r in records)
    timeouts = sum(r.get("server", {}).get("status") == "timeout" for r in records)
    planned = meta.get("planned_tasks", len(records))
    out += ["", f"{len(records)} of {planned} planned tasks ran"
            + (" (stopped early: continue with --resume)" if len(records) < planned else "")
            + f"; server timeouts: {timeouts}; server restarts: {restarts}."]
    return "\n".join(out) + "\n"


def failure_line(output: str) -> str:
    """The most telling line of a test run's output."""
    lines = [x.strip() for x in output.splitlines() if x.strip()]
    for i, line in enumerate(lines):
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return line
        if line.startswith("error:"):
            rest = line[len("error:"):].strip(" |-'")
            return rest or (lines[i + 1] if i + 1 < len(lines) else line)
    for line in lines:
        if line.startswith("E ") or "Error" in line:
            return line
    return lines[-1] if lines else "tests fail"


def examples(records: list[dict], limit: int = 12) -> str:
    """The broken edits the server applied: case, what failed (for RESULTS.md)."""
    rows = ["| task | what happened |", "|---|---|"]
    for r in records:
        s = r.get("server", {})
        if s.get("state") == "applied" and not s.get("tests_pass"):
            why = "does not parse: " + s.get("parse_error", "") if s.get("parses") is False \
                else failure_line(s.get("test_output", ""))
            rows.append(f"| {r['action']} `{r['id']}` | {why[:160].replace('|', '/')} |")
        elif s.get("state") in ("refused", "error"):
            rows.append(f"| {r['action']} `{r['id']}` | {s['state']}: "
                        f"{str(s.get('error', ''))[:160].replace('|', '/')} |")
        if len(rows) - 2 >= limit:
            break
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1]).read_text())
    print(markdown(data["meta"], data["tasks"]))
    if "--examples" in sys.argv:
        print(examples(data["tasks"], limit=40))
