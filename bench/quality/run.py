"""The quality benchmark: the real server on real code, judged by running the tests.

    .venv/bin/python bench/quality/run.py                 # everything, with the baseline
    .venv/bin/python bench/quality/run.py --sample 20     # a quick stratified subset
    .venv/bin/python bench/quality/run.py --actions refactor,async --no-baseline
    .venv/bin/python bench/quality/run.py --cases toolz   # only cases whose id matches

For every task (a case and an action) it opens the case's module in the real
`qwen-lsp` server over stdio, runs the command at the function's first line,
applies the edit the server sent to a scratch copy of the case, and runs the case's
tests there. The raw model with a naive prompt is run on the same case right after
(the baseline). Results: `results/<UTC timestamp>.json` and a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import checks  # noqa: E402
import corpus  # noqa: E402
import report  # noqa: E402
import testrun  # noqa: E402
from lsp_driver import (  # noqa: E402
    ServerSession,
    apply_text_edits,
    edits_for,
)

REPO = HERE.parents[1]
RESULTS = HERE / "results"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ---------------------------------------------------------------- the task list

def build_tasks(cases: list[dict], actions: list[str], explain_en: int,
                explain_zh: int) -> list[dict]:
    """(case, action, answer language) tasks; explain runs on a fixed subset."""
    tasks = []
    for action in ("refactor", "async"):
        if action in actions:
            tasks += [{"case": c, "action": action, "lang": "en"} for c in cases
                      if action in c["actions"]]
    if "explain" in actions:
        for language, share in (("python", 2 / 3), ("javascript", 1 / 3)):
            pool = sorted((c for c in cases if "explain" in c["actions"]
                           and c["language"] == language), key=lambda c: _key(c["id"]))
            n_en = round(explain_en * share)
            n_zh = round(explain_zh * share)
            tasks += [{"case": c, "action": "explain", "lang": "en"} for c in pool[:n_en]]
            tasks += [{"case": c, "action": "explain", "lang": "zh"}
                      for c in pool[n_en:n_en + n_zh]]
    return tasks


def stratum(task: dict) -> str:
    return f"{task['action']}/{task['case']['language']}/{task['lang']}"


def sample(tasks: list[dict], n: int) -> list[dict]:
    """A deterministic subset of n tasks, stratified by action, language, answer language."""
    groups: dict[str, list[dict]] = {}
    for t in tasks:
        groups.setdefault(stratum(t), []).append(t)
    for g in groups.values():
        g.sort(key=lambda t: _key(t["case"]["id"] + t["action"]))
    total = len(tasks)
    quota = {k: max(1, round(n * len(g) / total)) for k, g in groups.items()}
    while sum(quota.values()) > n and max(quota.values()) > 1:
        biggest = max(quota, key=lambda k: quota[k])
        quota[biggest] -= 1
    return [t for k, g in groups.items() for t in g[:quota[k]]]


def interleave(tasks: list[dict]) -> list[dict]:
    """Round-robin over the strata, so that any prefix of the run is itself stratified."""
    groups: dict[str, list[dict]] = {}
    for t in sorted(tasks, key=lambda t: _key(t["case"]["id"] + t["action"] + t["lang"])):
        groups.setdefault(stratum(t), []).append(t)
    total = len(tasks)
    # every stratum's first task comes in the first round, then each advances in
    # proportion to its size
    progress = {k: 1.0 - len(g) / total for k, g in groups.items()}
    out: list[dict] = []
    taken = {k: 0 for k in groups}
    while len(out) < total:
        for k, g in groups.items():
            progress[k] += len(g) / total
            while taken[k] < len(g) and progress[k] >= taken[k] + 1 - 1e-9:
                out.append(g[taken[k]])
                taken[k] += 1
        if all(taken[k] == len(g) for k, g in groups.items()):
            break
    return out


def task_key(rec_or_task: dict) -> tuple[str, str, str]:
    if "case" in rec_or_task:
        return (rec_or_task["case"]["id"], rec_or_task["action"], rec_or_task["lang"])
    return (rec_or_task["id"], rec_or_task["action"], rec_or_task["answer_language"])


# ---------------------------------------------------------------- judging one rewrite

def callers_of(case: dict, source: str) -> dict[str, list[str]]:
    """Same-file functions that call the case's function, split by async/sync."""
    if case["language"] == "python":
        fns = corpus.python_functions(source)
    else:
        fns = corpus.js_functions(source.encode())
    lines = source.splitlines()
    call = re.compile(r"(?<![\w$])" + re.escape(case["name"]) + r"\s*\(")
    out: dict[str, list[str]] = {"async": [], "sync": []}
    for fn in fns:
        if fn["qualname"] == case["qualname"]:
            continue
        body = "\n".join(lines[fn["line"] + 1: fn["end_line"]])
        if call.search(body):
            out["async" if fn["is_async"] else "sync"].append(fn["name"])
    return out


def run_tests(case: dict, new_source: str, scratch_base: Path) -> testrun.TestOutcome:
    root = testrun.scratch("t-", scratch_base)
    shutil.rmtree(root)
    testrun.copy_tree(Path(case["tree"]), root)
    try:
        (root / case["module"]).write_text(new_source, encoding="utf-8")
        t = case["tests"]
        if t["runner"] == "pytest":
            return testrun.run_pytest(root, t["nodeids"], t["pythonpath"], t["extra"])
        return testrun.run_node(root, t["file"], t["pattern"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def is_async_now(case: dict, new_source: str, scratch_base: Path) -> bool | None:
    """inspect.iscoroutinefunction / AsyncFunction on the rewritten module."""
    root = testrun.scratch("a-", scratch_base)
    shutil.rmtree(root)
    testrun.copy_tree(Path(case["tree"]), root)
    try:
        (root / case["module"]).write_text(new_source, encoding="utf-8")
        if case["language"] == "javascript":
            return checks.js_function_is_async(str(root), case["module"], case["name"])
        module = case["module"][:-3].replace("/", ".")
        script = ("import importlib, inspect, sys; sys.path.insert(0, '.');"
                  f"m = importlib.import_module({module!r}); obj = m\n"
                  f"for part in {case['qualname']!r}.split('.'): obj = getattr(obj, part)\n"
                  "print(inspect.iscoroutinefunction(obj))")
        proc = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != 0:
            return checks.python_function_is_async(new_source, case["qualname"])
        return proc.stdout.strip().splitlines()[-1] == "True"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def judge_rewrite(case: dict, action: str, old: str, new: str | None,
                  scratch_base: Path) -> dict[str, Any]:
    """Parse, change, tests and (for async) asyncness of a rewritten module."""
    out: dict[str, Any] = {}
    if new is None or new == old:
        out["state"] = "unchanged"
        return out
    out["state"] = "applied"
    py = case["language"] == "python"
    error = checks.python_parses(new) if py else checks.js_parses(new)
    out["parses"] = error is None
    if error:
        out["parse_error"] = error
    if error is None:
        changed, substantive = (checks.python_change if py else checks.js_change)(old, new)
        out["changed"], out["substantive"] = changed, substantive
    else:
        out["changed"] = out["substantive"] = True
    tests = run_tests(case, new, scratch_base)
    out["tests_pass"] = tests.passed
    if not tests.passed:
        out["test_output"] = tests.summary[-3000:]
    if action == "async":
        out["is_async"] = is_async_now(case, new, scratch_base) if error is None else False
        out["async_ok"] = bool(out["is_async"]) and tests.passed
    return out


# ---------------------------------------------------------------- one task, both sides

async def server_side(session: ServerSession, task: dict, source: str,
                      scratch_base: Path) -> dict[str, Any]:
    case, action = task["case"], task["action"]
    doc_dir = testrun.scratch("doc-", scratch_base)
    path = doc_dir / case["module"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    starts = session.starts
    try:
        outcome = await session.run(action, path, source, case["language"], case["line"],
                                    case["character"])
    finally:
        shutil.rmtree(doc_dir, ignore_errors=True)
    rec: dict[str, Any] = {"status": outcome.status, "seconds": round(outcome.seconds, 3),
                           "server_restarted": starts > 0 and session.starts > starts}
    if outcome.error:
        rec["error"] = outcome.error
    if outcome.status != "ok":
        rec["state"] = "refused" if outcome.status == "refused" else "error"
        return rec
    result = outcome.result or {}
    rec["cached"] = result.get("cached")
    if action == "explain":
        rec["markdown"] = result.get("markdown", "")
        rec.update(checks.explain_checks(rec["markdown"], case, source, task["lang"]))
        rec["state"] = "answered"
        return rec
    rec["notes"] = result.get("notes", [])
    rec["client_applied"] = result.get("applied")
    uri = path.as_uri()
    edits = edits_for(result.get("edit") or {}, uri)
    sent = [e for we in outcome.applied_edits for e in edits_for(we, uri)]
    rec["edit_sent_matches_result"] = sent == edits if outcome.applied_edits else None
    new = apply_text_edits(source, edits) if edits else None
    rec.update(judge_rewrite(case, action, source, new, scratch_base))
    if new is not None and new != source:
        rec["new_function"] = _function_text(case, new)
    if action == "async":
        sync_callers = callers_of(case, source)["sync"]
        notes = " ".join(rec["notes"])
        rec["sync_callers"] = sync_callers
        rec["sync_callers_listed"] = all(name in notes for name in sync_callers)
    return rec


def _function_text(case: dict, new_source: str) -> str:
    """The rewritten function (located again by name) for the results file."""
    try:
        fns = (corpus.python_functions(new_source) if case["language"] == "python"
               else corpus.js_functions(new_source.encode()))
    except SyntaxError:
        return new_source[:4000]
    lines = new_source.splitlines()
    for fn in fns:
        if fn["qualname"] == case["qualname"]:
            return "\n".join(lines[fn["first_line"] - 1: fn["end_line"]])
    return new_source[:4000]


def baseline_side(model: baseline.RawModel, task: dict, source: str,
                  scratch_base: Path) -> dict[str, Any]:
    case, action = task["case"], task["action"]
    got = baseline.baseline_case(model, action, case, source, task["lang"])
    rec: dict[str, Any] = {"status": "ok", "seconds": round(got["seconds"], 3)}
    if action == "explain":
        rec["markdown"] = got["answer"]
        rec.update(checks.explain_checks(got["answer"], case, source, task["lang"]))
        rec["state"] = "answered"
        return rec
    new = got["new_source"]
    rec["code_block"] = new is not None
    if new is None:
        rec["answer"] = got["answer"][:3000]
    rec.update(judge_rewrite(case, action, source, new, scratch_base))
    if new is not None and new != source:
        rec["new_function"] = _function_text(case, new) if rec.get("parses") else \
            baseline.first_code_block(got["answer"])
    return rec


# ---------------------------------------------------------------- the run

def snapshot_server(rev: str) -> tuple[Path, str]:
    """`git archive REV qwen_lsp` into .work/: the server of one commit, whatever the
    checkout does meanwhile."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", rev],
                            capture_output=True, text=True, check=True).stdout.strip()
    dest = corpus.WORK / "server" / commit
    if not (dest / "qwen_lsp" / "__main__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        # the package and, where the commit has them there, the top-level prompt templates
        paths = [p for p in ("qwen_lsp", "prompts") if subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}:{p}"]).returncode == 0]
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, *paths],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest, commit


def machine() -> dict[str, Any]:
    model_name = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model_name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "qwen_lsp"],
                           capture_output=True, text=True).stdout.strip()
    flags = ""
    try:
        import llama_cpp
        info = llama_cpp.llama_print_system_info().decode()
        flags = " ".join(f for f in ("AVX2 = 1", "AVX512 = 1") if f in info)
    except Exception:  # noqa: BLE001 - informational only
        pass
    return {"cpu": model_name, "cores": os.cpu_count(), "python": platform.python_version(),
            "commit": commit, "qwen_lsp_dirty": bool(dirty), "llama_flags": flags}


async def run(args: argparse.Namespace) -> Path:
    manifest = corpus.prepare(force=args.force_prepare)
    snapshot, server_commit = (snapshot_server(args.server_commit) if args.server_commit
                               else (None, None))
    prelude = f"import sys; sys.path.insert(0, {str(snapshot)!r}); " if snapshot else ""
    check = subprocess.run([sys.executable, "-c",
                            prelude + "import qwen_lsp; print(qwen_lsp.__file__)"],
                           capture_output=True, text=True)
    server_source = check.stdout.strip()
    cases = manifest["cases"]
    if args.cases:
        pattern = re.compile(args.cases)
        cases = [c for c in cases if pattern.search(c["id"])]
    actions = [a.strip() for a in args.actions.split(",")]
    tasks = build_tasks(cases, actions, args.explain_en, args.explain_zh)
    if args.sample:
        tasks = sample(tasks, args.sample)
    tasks = interleave(tasks)
    records: list[dict] = []
    if args.resume:
        out_path = Path(args.resume)
        previous = json.loads(out_path.read_text())
        meta = previous["meta"]
        records = previous["tasks"]
        if args.redo_errors:
            records = [r for r in records if not any(
                str(r.get(side, {}).get("error", "")).startswith("harness:")
                for side in ("server", "baseline"))]
        stamp = meta["started"]
        done = {task_key(r) for r in records}
        tasks = [t for t in tasks if task_key(t) not in done]
        meta.setdefault("resumed", []).append(
            {"at": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
             "machine": machine()})
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out_path = RESULTS / f"{stamp}.json"
    RESULTS.mkdir(exist_ok=True)
    work = corpus.WORK / "runs" / stamp
    work.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        meta = {"started": stamp, "machine": machine(), "args": vars(args),
                "corpus": {"packages": manifest["packages"], "cases": len(manifest["cases"]),
                           "dropped": len(manifest["dropped"])},
                "server": {"command": "python -m qwen_lsp", "source": server_source,
                           "commit": server_commit or "the working tree",
                           "cache_enabled": args.cache,
                           "threads": 2, "client": "visual-studio-code capabilities"},
                "baseline": None if args.no_baseline else {
                    "model": "the embedded GGUF via llama_cpp.Llama", "n_threads": 2,
                    "n_ctx": 4096, "temperature": 0, "max_tokens": 768,
                    "prompt": "naive (see baseline.py)"}}
    meta["planned_tasks"] = len(records) + len(tasks)
    log(f"{len(tasks)} tasks: " + ", ".join(
        f"{k} {v}" for k, v in sorted(_count(tasks).items())) + f" -> {out_path}")
    model = None if args.no_baseline else baseline.RawModel()
    sessions: dict[str, ServerSession] = {}
    meta.setdefault("server_starts", {})
    starts = meta["server_starts"]

    def options(lang: str) -> dict[str, Any]:
        opts: dict[str, Any] = {"cache": {"enabled": args.cache,
                                          "directory": str(work / "cache")},
                                "threads": 2, "explanationDisplay": "client"}
        if lang != "en":
            opts["explanationLanguage"] = lang
        return opts

    started = time.perf_counter()
    try:
        for i, task in enumerate(tasks, 1):
            case = task["case"]
            rec: dict[str, Any] = {"id": case["id"], "action": task["action"],
                                   "language": case["language"], "answer_language": task["lang"],
                                   "origin": case["origin"], "package": case.get("package"),
                                   "extraction": case["extraction"], "module": case["module"],
                                   "line": case["line"], "lines": case["end_line"]
                                   - case["first_line"] + 1,
                                   "load_average": os.getloadavg()[0]}
            source = (Path(case["tree"]) / case["module"]).read_text(encoding="utf-8")
            if args.max_minutes and time.perf_counter() - started > 60 * args.max_minutes:
                log(f"stopping after {args.max_minutes} minutes: {len(tasks) - i + 1} tasks "
                    f"left (continue with --resume {out_path})")
                meta["stopped_early"] = True
                break
            meta["stopped_early"] = False
            if task["lang"] not in sessions:
                sessions[task["lang"]] = ServerSession(
                    work / task["lang"], options(task["lang"]), command_timeout=args.timeout,
                    snapshot=snapshot)
                (work / task["lang"]).mkdir(exist_ok=True)
            session = sessions[task["lang"]]
            try:
                rec["server"] = await server_side(session, task, source, work / "tmp")
            except Exception as exc:  # noqa: BLE001 - a task never stops the run
                rec["server"] = {"state": "error", "error": f"harness: {exc!r}",
                                 "traceback": traceback.format_exc()[-2000:]}
            if model is not None:
                try:
                    rec["baseline"] = await asyncio.to_thread(baseline_side, model, task, source,
                                                              work / "tmp")
                except Exception as exc:  # noqa: BLE001
                    rec["baseline"] = {"state": "error", "error": f"harness: {exc!r}",
                                       "traceback": traceback.format_exc()[-2000:]}
            records.append(rec)
            log(f"[{i}/{len(tasks)}] {task['action']:8} {task['lang']} {case['id']}: "
                f"server {_brief(rec['server'])}"
                + (f" | baseline {_brief(rec['baseline'])}" if "baseline" in rec else "")
                + f"  ({time.perf_counter() - started:.0f} s)")
            _save(out_path, meta, records)
    finally:
        for lang, s in sessions.items():
            starts[lang] = starts.get(lang, 0) + s.starts
            await s.stop()
    meta["seconds"] = round(meta.get("seconds", 0) + time.perf_counter() - started, 1)
    _save(out_path, meta, records)
    table = report.markdown(meta, records)
    print(table)
    out_path.with_suffix(".md").write_text(table)
    shutil.rmtree(work / "tmp", ignore_errors=True)
    return out_path


def _count(tasks: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in tasks:
        counts[stratum(t)] = counts.get(stratum(t), 0) + 1
    return counts


def _brief(rec: dict) -> str:
    state = rec.get("state", "?")
    bits = [state]
    if "tests_pass" in rec:
        bits.append("tests ok" if rec["tests_pass"] else "TESTS FAIL")
    if rec.get("parses") is False:
        bits.append("UNPARSEABLE")
    if "async_ok" in rec:
        bits.append("async ok" if rec["async_ok"] else "not async-ok")
    if "checks" in rec:
        c = rec["checks"]
        bits.append(f"checks {sum(1 for k, v in c.items() if v and k != 'all')}/{len(c) - 1}")
    if state in ("refused", "error"):
        bits.append(str(rec.get("error", ""))[:90])
    if "seconds" in rec:
        bits.append(f"{rec['seconds']:.1f}s")
    return " ".join(bits)


def _save(path: Path, meta: dict, records: list[dict]) -> None:
    path.write_text(json.dumps({"meta": meta, "tasks": records}, indent=1, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0,
                        help="a deterministic stratified subset of N tasks")
    parser.add_argument("--actions", default="refactor,async,explain")
    parser.add_argument("--cases", help="only the cases whose id matches this regex")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--cache", action="store_true",
                        help="leave the server's result cache on (off by default)")
    parser.add_argument("--explain-en", type=int, default=45,
                        help="explain tasks in English (2/3 Python, 1/3 JavaScript)")
    parser.add_argument("--explain-zh", type=int, default=12,
                        help="explain tasks with explanationLanguage zh")
    parser.add_argument("--timeout", type=float, default=300.0, help="per server command")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="start no new task after this long (the order is interleaved, "
                        "so what ran is still stratified)")
    parser.add_argument("--resume", help="continue the run in this results JSON")
    parser.add_argument("--redo-errors", action="store_true",
                        help="with --resume: run again the tasks the harness failed on")
    parser.add_argument("--server-commit", metavar="REV",
                        help="run the server of this commit (git archive into .work/) "
                        "instead of the working tree, e.g. HEAD")
    parser.add_argument("--prepare", action="store_true", help="build the corpus and stop")
    parser.add_argument("--force-prepare", action="store_true", help="rebuild the corpus")
    args = parser.parse_args()
    if args.prepare:
        corpus.prepare(force=args.force_prepare)
        return
    path = asyncio.run(run(args))
    log(f"results: {path}")


if __name__ == "__main__":
    main()
