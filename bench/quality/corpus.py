"""Assembling the corpus: pinned sdists from PyPI plus the cases written here.

`prepare()` downloads each pinned sdist (`pip download --no-deps --no-binary :all:`)
into `.work/sdists/`, extracts the files a case needs into `.work/trees/<pkg>-<ver>/`,
finds the functions and methods of the listed modules, and pairs each with the
package's own tests that exercise it. A case is kept only when

- it is 5-60 lines long, top level or a method of a top-level class;
- some test of the package names it (by name, or at least by reference);
- those tests pass on the original code; and
- they FAIL when the function's body is replaced by `raise NotImplementedError`
  (so the tests really exercise this function).

Everything dropped is recorded with the reason in `.work/corpus.json`. The cases
written here (`cases/js/`, `cases/js_async/`, `cases/python_async/`) go through the
same checks. The result is cached: `prepare` again is a no-op unless `--force`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import tree_sitter_javascript
from packages import PACKAGES, Package
from testrun import copy_tree, failing_pytest_ids, run_node, run_pytest, scratch
from tree_sitter import Language, Parser

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
CASES = HERE / "cases"
CORPUS_FILE = WORK / "corpus.json"
MIN_LINES, MAX_LINES = 5, 60
MAX_NODEIDS = 20

JS = Language(tree_sitter_javascript.language())


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def stable_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ---------------------------------------------------------------- Python functions

def python_functions(source: str) -> list[dict[str, Any]]:
    """Top-level functions and methods of top-level classes, with their positions."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: list[dict[str, Any]] = []

    def add(node: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None) -> None:
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        def_line = lines[node.lineno - 1]
        m = re.search(r"\bdef\s+" + re.escape(node.name) + r"\b", def_line)
        col = (m.start() + def_line[m.start():].index(node.name)) if m else node.col_offset
        a = node.args
        params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
        params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
        if cls is not None and params and params[0] in ("self", "cls"):
            params = params[1:]
        found.append({
            "name": node.name, "qualname": f"{cls}.{node.name}" if cls else node.name,
            "kind": "method" if cls else "function",
            "is_async": isinstance(node, ast.AsyncFunctionDef),
            "line": node.lineno - 1, "character": col,
            "first_line": first, "end_line": node.end_lineno,
            "body_line": node.body[0].lineno, "params": params,
        })

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add(node, None)
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    add(sub, node.name)
    return found


def mutate_python(source: str, fn: dict[str, Any]) -> str:
    """The function with its body replaced by `raise NotImplementedError`."""
    lines = source.splitlines(keepends=True)
    body0 = fn["body_line"] - 1
    indent = re.match(r"\s*", lines[body0]).group(0)
    new = lines[:body0] + [f"{indent}raise NotImplementedError('bench mutation')\n"] \
        + lines[fn["end_line"]:]
    return "".join(new)


def _referenced_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def _norm(name: str) -> str:
    return name.strip("_").replace("_", "").lower()


def python_test_items(test_file: str, source: str) -> list[tuple[str, str, set[str]]]:
    """(nodeid, normalised name, names referenced) for each test item of a file."""
    tree = ast.parse(source)
    items = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name.startswith("test"):
            items.append((f"{test_file}::{node.name}", _norm(node.name),
                          _referenced_names(node)))
        elif isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                     for b in node.bases}
            is_unittest = any(b.endswith("TestCase") for b in bases)
            if not (node.name.startswith("Test") or is_unittest):
                continue
            tests = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and s.name.startswith("test")]
            if not tests:
                continue
            if is_unittest:  # the whole class: its name says what it tests
                items.append((f"{test_file}::{node.name}", _norm(node.name),
                              _referenced_names(node)))
            else:
                for t in tests:
                    items.append((f"{test_file}::{node.name}::{t.name}",
                                  _norm(node.name + t.name), _referenced_names(t)))
    return items


def select_tests(name: str, items: list[tuple[str, str, set[str]]]) -> list[str]:
    """The tests named after `name` that use it; else any test that uses it."""
    n = _norm(name)
    uses = [i for i in items if name in i[2]]
    primary = [i for i in uses if len(n) >= 3 and n in i[1]]
    chosen = primary or uses
    return [i[0] for i in chosen][:MAX_NODEIDS]


def python_cases(pkg_label: str, tree: Path, modules: dict[str, tuple[str, ...]],
                 pythonpath: list[str], extra: list[str], actions: list[str], cap: int,
                 origin: str, extraction: str, want_async: bool | None = None,
                 min_lines: int = MIN_LINES) -> tuple[list[dict], list[dict]]:
    """Candidate cases of one tree, checked against its tests; (kept, dropped)."""
    kept: list[dict] = []
    dropped: list[dict] = []
    all_tests = sorted({t for tests in modules.values() for t in tests})
    run_dir = scratch("orig-", WORK / "tmp")
    shutil.rmtree(run_dir)
    copy_tree(tree, run_dir)
    bad, summary = failing_pytest_ids(run_dir, all_tests, pythonpath, extra)
    log(f"  {pkg_label}: the tests on the original code: {summary.splitlines()[-1:]}")
    shutil.rmtree(run_dir, ignore_errors=True)
    candidates = []
    for module, test_files in modules.items():
        source = (tree / module).read_text(encoding="utf-8")
        items = [it for tf in test_files
                 for it in python_test_items(tf, (tree / tf).read_text(encoding="utf-8"))]
        fns = python_functions(source)
        counts: dict[str, int] = {}
        for fn in fns:
            counts[fn["qualname"]] = counts.get(fn["qualname"], 0) + 1
        for fn in fns:
            case_id = f"py:{pkg_label}:{module}:{fn['qualname']}"
            n_lines = fn["end_line"] - fn["first_line"] + 1
            why = None
            if fn["name"].startswith("__"):
                why = "dunder method (tests cannot be matched by name)"
            elif counts[fn["qualname"]] > 1:
                why = "defined more than once in the module (property setter or overload)"
            elif not min_lines <= n_lines <= MAX_LINES:
                why = f"{n_lines} lines, outside {min_lines}-{MAX_LINES}"
            elif want_async is not None and fn["is_async"] != (not want_async):
                why = "already async" if want_async else "async"
            if why:
                dropped.append({"id": case_id, "reason": why})
                continue
            nodeids = select_tests(fn["name"], items)
            nodeids_ok = [n for n in nodeids if n not in bad]
            if not nodeids:
                dropped.append({"id": case_id, "reason": "no test of the package uses it"})
                continue
            if not nodeids_ok:
                dropped.append({"id": case_id, "reason": "its tests fail on the original: "
                                + ", ".join(nodeids)})
                continue
            candidates.append((stable_key(case_id), case_id, module, fn, nodeids_ok))
    candidates.sort()
    for _, case_id, module, fn, nodeids in candidates:
        if len(kept) >= cap:
            dropped.append({"id": case_id, "reason": f"over the package's cap of {cap}"})
            continue
        source = (tree / module).read_text(encoding="utf-8")
        run_dir = scratch("mut-", WORK / "tmp")
        shutil.rmtree(run_dir)
        copy_tree(tree, run_dir)
        try:
            original = run_pytest(run_dir, nodeids, pythonpath, extra)
            if not original.passed:
                dropped.append({"id": case_id, "reason": "its tests fail on the original "
                                "when run alone", "output": original.summary})
                continue
            (run_dir / module).write_text(mutate_python(source, fn), encoding="utf-8")
            mutated = run_pytest(run_dir, nodeids, pythonpath, extra, exitfirst=True)
            if mutated.passed:
                dropped.append({"id": case_id, "reason": "its tests still pass with the body "
                                "replaced by raise: they do not exercise it"})
                continue
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        kept.append({
            "id": case_id, "language": "python", "actions": actions, "origin": origin,
            "package": pkg_label, "extraction": extraction, "tree": str(tree),
            "module": module, **fn,
            "tests": {"runner": "pytest", "nodeids": nodeids, "pythonpath": pythonpath,
                      "extra": extra},
        })
    log(f"  {pkg_label}: {len(kept)} cases kept, {len(dropped)} dropped")
    return kept, dropped


# ---------------------------------------------------------------- JavaScript functions

def js_functions(source: bytes) -> list[dict[str, Any]]:
    """Top-level function declarations of a CommonJS module."""
    tree = Parser(JS).parse(source)
    found = []
    for node in tree.root_node.children:
        if node.type not in ("function_declaration", "generator_function_declaration"):
            continue
        name_node = node.child_by_field_name("name")
        name = name_node.text.decode()
        params = []
        for p in node.child_by_field_name("parameters").named_children:
            if p.type == "identifier":
                params.append(p.text.decode())
            elif p.type == "assignment_pattern":
                params.append(p.child_by_field_name("left").text.decode())
            elif p.type == "rest_pattern":
                params.append(p.named_children[0].text.decode())
        # a doc comment right above belongs to the function
        first = node.start_point[0]
        prev = node.prev_sibling
        if prev is not None and prev.type == "comment" and prev.end_point[0] == first - 1:
            first = prev.start_point[0]
        body = node.child_by_field_name("body")
        is_async = any(c.type == "async" for c in node.children)
        found.append({
            "name": name, "qualname": name, "kind": "function", "is_async": is_async,
            "line": node.start_point[0], "character": name_node.start_point[1],
            "first_line": first + 1, "end_line": node.end_point[0] + 1, "params": params,
            "body_start": body.start_byte, "body_end": body.end_byte,
        })
    return found


def mutate_js(source: bytes, fn: dict[str, Any]) -> bytes:
    return (source[:fn["body_start"]] + b'{ throw new Error("bench mutation"); }'
            + source[fn["body_end"]:])


def js_cases(folder: Path, actions: list[str]) -> tuple[list[dict], list[dict]]:
    kept, dropped = [], []
    for module in sorted(folder.glob("*.js")):
        if module.name.endswith(".test.js") or module.name.startswith("_"):
            continue
        test_file = module.with_name(module.stem + ".test.js")
        source = module.read_bytes()
        for fn in js_functions(source):
            case_id = f"js:{folder.name}/{module.name}:{fn['name']}"
            if "async" in actions and fn["is_async"]:
                dropped.append({"id": case_id, "reason": "already async"})
                continue
            pattern = f"^{fn['name']}: "
            run_dir = scratch("js-", WORK / "tmp")
            shutil.rmtree(run_dir)
            copy_tree(folder, run_dir)
            try:
                original = run_node(run_dir, test_file.name, pattern)
                if not original.passed:
                    dropped.append({"id": case_id, "reason": "its tests fail on the original",
                                    "output": original.summary})
                    continue
                (run_dir / module.name).write_bytes(mutate_js(source, fn))
                mutated = run_node(run_dir, test_file.name, pattern)
                if mutated.passed:
                    dropped.append({"id": case_id, "reason": "its tests still pass with the "
                                    "body replaced by throw"})
                    continue
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)
            fn.pop("body_start")
            fn.pop("body_end")
            kept.append({
                "id": case_id, "language": "javascript", "actions": actions,
                "origin": "written", "package": None,
                "extraction": "module written for the bench", "tree": str(folder),
                "module": module.name, **fn,
                "tests": {"runner": "node", "file": test_file.name, "pattern": pattern},
            })
    log(f"  {folder.name}: {len(kept)} cases kept, {len(dropped)} dropped")
    return kept, dropped


# ---------------------------------------------------------------- sdists

def fetch_sdist(pkg: Package) -> Path:
    """The pinned sdist, downloaded once into .work/sdists/ and extracted."""
    sdists = WORK / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = next(sdists.glob(f"{pkg.name.replace('-', '?')}-{pkg.version}.tar.gz"), None)
    if archive is None:
        log(f"  pip download {pkg.name}=={pkg.version}")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", "-d", str(sdists),
                        f"{pkg.name}=={pkg.version}"], check=True)
        archive = next(sdists.glob(f"{pkg.name.replace('-', '?')}-{pkg.version}.tar.gz"))
    extracted = WORK / "extracted"
    top = extracted / archive.name[: -len(".tar.gz")]
    if not top.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(extracted, filter="data")
    tree = WORK / "trees" / pkg.dirname
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    for rel in pkg.copy:
        src, dst = top / rel, tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            copy_tree(src, dst)
        else:
            shutil.copy2(src, dst)
    return tree


def _cached(name: str, force: bool, build) -> tuple[list[dict], list[dict]]:
    """One source's (kept, dropped), cached in .work/parts/<name>.json."""
    part = WORK / "parts" / f"{name}.json"
    if part.exists() and not force:
        data = json.loads(part.read_text())
        return data["kept"], data["dropped"]
    kept, dropped = build()
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_text(json.dumps({"kept": kept, "dropped": dropped}, indent=1))
    return kept, dropped


def prepare(force: bool = False, only: str | None = None) -> dict:
    """Build (or load) the corpus manifest; `only` rebuilds the sources matching it."""
    if CORPUS_FILE.exists() and not force and only is None:
        return json.loads(CORPUS_FILE.read_text())
    log("preparing the corpus (cached in bench/quality/.work/)")
    (WORK / "tmp").mkdir(parents=True, exist_ok=True)

    def again(name: str) -> bool:
        return force or (only is not None and only in name)

    cases: list[dict] = []
    dropped: list[dict] = []
    for pkg in PACKAGES:
        label = f"{pkg.name}=={pkg.version}"

        def build(pkg: Package = pkg, label: str = label) -> tuple[list[dict], list[dict]]:
            tree = fetch_sdist(pkg)
            return python_cases(label, tree, pkg.modules, list(pkg.pythonpath),
                                list(pkg.pytest_args), ["refactor", "explain"], pkg.cap,
                                "package", "the original module file of the sdist")
        k, d = _cached(pkg.dirname, again(pkg.dirname), build)
        cases += k
        dropped += d

    def build_py_async() -> tuple[list[dict], list[dict]]:
        folder = CASES / "python_async"
        modules = {p.name: (f"test_{p.name}",) for p in sorted(folder.glob("*.py"))
                   if not p.name.startswith(("test_", "_", "conftest"))}
        # small functions are real conversion targets too (fetch_json is 4 lines)
        return python_cases("written", folder, modules, ["."], [], ["async"], 10_000,
                            "written", "module written for the bench", want_async=True,
                            min_lines=2)
    k, d = _cached("python_async", again("python_async"), build_py_async)
    cases += k
    dropped += d
    for name, actions in (("js", ["refactor", "explain"]), ("js_async", ["async"])):
        k, d = _cached(name, again(name) and not (only == "js" and name == "js_async"),
                       lambda name=name, actions=actions: js_cases(CASES / name, actions))
        cases += k
        dropped += d
    manifest = {"packages": [f"{p.name}=={p.version}" for p in PACKAGES],
                "cases": cases, "dropped": dropped}
    CORPUS_FILE.write_text(json.dumps(manifest, indent=1))
    counts: dict[str, int] = {}
    for c in cases:
        for a in c["actions"]:
            key = f"{a}/{c['language']}"
            counts[key] = counts.get(key, 0) + 1
    log(f"corpus: {len(cases)} cases {counts}, {len(dropped)} dropped -> {CORPUS_FILE}")
    return manifest


def test_command(case: dict) -> str:
    """The command that runs a case's tests, from the root of its tree."""
    t = case["tests"]
    if t["runner"] == "pytest":
        return "python -m pytest " + " ".join(t["extra"] + t["nodeids"])
    return f"node --test --test-name-pattern='{t['pattern']}' {t['file']}"


def summary(manifest: dict) -> str:
    """CORPUS.md: where every case comes from, and why the others were dropped."""
    cases, dropped = manifest["cases"], manifest["dropped"]
    lines = ["# The quality corpus", "",
             "Generated by `corpus.py --summary` from `.work/corpus.json`. Packages (pinned "
             "sdists): " + ", ".join(manifest["packages"]) + ".", "",
             "| source | language | actions | cases |", "|---|---|---|---|"]
    counts: dict[tuple[str, str, str], int] = {}
    for c in cases:
        k = (c["package"] if c["origin"] == "package" else "written here", c["language"],
             ",".join(c["actions"]))
        counts[k] = counts.get(k, 0) + 1
    lines += [f"| {k[0]} | {k[1]} | {k[2]} | {v} |" for k, v in sorted(counts.items())]
    reasons: dict[str, int] = {}
    for d in dropped:
        r = re.sub(r"\d+ lines", "N lines", d["reason"].split(":")[0])
        reasons[r] = reasons.get(r, 0) + 1
    lines += ["", "Dropped (function → reason, counts):", "", "| reason | functions |",
              "|---|---|"] + [f"| {r} | {n} |" for r, n in sorted(reasons.items(),
                                                            key=lambda x: -x[1])]
    lines += ["", "## Cases", "",
              "| id | lines | module (extraction) | test command |", "|---|---|---|---|"]
    for c in cases:
        lines.append(f"| `{c['id']}` | {c['first_line']}–{c['end_line']} | {c['module']} "
                     f"({c['extraction']}) | `{test_command(c)}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild every source")
    parser.add_argument("--only", help="rebuild the sources whose name contains this")
    parser.add_argument("--summary", action="store_true", help="write CORPUS.md")
    args = parser.parse_args()
    manifest = prepare(force=args.force, only=args.only)
    if args.summary:
        (HERE / "CORPUS.md").write_text(summary(manifest))
