"""What can be improved in a Python function, found by ruff's refactoring rules.

ruff (a maintained linter) is run on the function alone, with the rule families
that are about writing the same thing better: flake8-simplify, comprehensions,
perflint, returns, pyupgrade, pylint's refactorings, refurb and pie. It gives the
findings, and two rewrites by rule: its *safe* fixes (which keep behaviour by
ruff's own definition) and its safe plus *unsafe* fixes (which keep behaviour in
all but rare cases: the runner keeps those only where the behaviour check ran and
found the same results). Findings without a fix are what the model is asked for.
"""

from __future__ import annotations

import ast
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SELECT = "SIM,C4,PERF,RET,UP,PL,FURB,PIE"
# Not refactorings: style limits and suggestions that change a function's interface.
IGNORE = ",".join((
    "PLR2004",  # magic value comparison
    "PLR0904", "PLR0911", "PLR0912", "PLR0913", "PLR0914", "PLR0915", "PLR0916", "PLR0917",
    "PLR1702",  # complexity limits
    "PLR6301",  # no-self-use: would make it a staticmethod
    "PLC0415",  # import outside top level
    "PLW0603", "PLW0602",  # global statements
    "PLC1901",  # compare-to-empty-string (changes behaviour for non-str)
    "PLW1514",  # open() without encoding: changes behaviour
    "UP035",  # deprecated import: the import is outside the function
    "FURB101", "FURB103",  # read/write_text: needs pathlib imports
    "PIE790",  # unnecessary pass/ellipsis (keeps stubs as written)
))
_TIMEOUT = 10.0


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    line: int  # 1-based, in the function's code
    fix: str | None  # "safe", "unsafe" or None (ruff has no fix, or only displays one)

    def describe(self) -> str:
        return f"line {self.line}: {self.message} ({self.code})"


@dataclass(frozen=True)
class Lint:
    findings: list[Finding] = field(default_factory=list)
    safe_code: str | None = None  # the code with ruff's safe fixes, if that changed it
    unsafe_code: str | None = None  # with safe and unsafe fixes, if that changed it more

    @property
    def unfixed(self) -> list[Finding]:
        """What is left for the model: ruff's findings without a fix, and the patterns."""
        return [f for f in self.findings if f.fix is None]


def _ruff() -> str | None:
    candidate = Path(sys.executable).parent / "ruff"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("ruff")


def _run(args: list[str], code: str) -> subprocess.CompletedProcess[str] | None:
    ruff = _ruff()
    if ruff is None:
        log.warning("ruff is not installed: refactors get no lint findings")
        return None
    command = [ruff, "check", "--isolated", "--preview", "--target-version", "py38",
               "--select", SELECT, "--ignore", IGNORE, "--stdin-filename", "function.py",
               *args, "-"]
    try:
        return subprocess.run(command, input=code, capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("ruff failed: %s", exc)
        return None


def _fixed(code: str, unsafe: bool) -> str | None:
    result = _run(["--fix-only", "--exit-zero", *(["--unsafe-fixes"] if unsafe else [])], code)
    if result is None or result.returncode != 0:
        return None
    fixed = result.stdout
    return fixed if fixed.strip() and fixed.rstrip("\n") != code.rstrip("\n") else None


def lint_python(code: str) -> Lint:
    """ruff's findings and fixes for one dedented Python function."""
    result = _run(["--output-format", "json", "--exit-zero"], code)
    if result is None:
        return Lint()
    try:
        raw = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        log.warning("ruff gave no JSON: %s", result.stderr[-500:])
        return Lint()
    findings = []
    for item in raw:
        fix = item.get("fix") or {}
        applicability = fix.get("applicability") if fix.get("edits") else None
        findings.append(Finding(
            code=str(item.get("code") or ""), message=str(item.get("message") or ""),
            line=int((item.get("location") or {}).get("row") or 1),
            fix=applicability if applicability in ("safe", "unsafe") else None))
    findings.extend(pattern_findings(code))
    if not findings:
        return Lint()
    safe = _fixed(code, unsafe=False) if any(f.fix == "safe" for f in findings) else None
    unsafe = _fixed(code, unsafe=True) if any(f.fix == "unsafe" for f in findings) else None
    if unsafe is not None and safe is not None and unsafe == safe:
        unsafe = None
    return Lint(findings=findings, safe_code=safe, unsafe_code=unsafe)


# ---------------------------------------------------------------- patterns ruff does not know


def _name(node: ast.AST | None) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _adds_to(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """`acc += e` or `acc = acc + e`: (acc, e)."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
        target = _name(stmt.target)
        return (target, stmt.value) if target else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add):
        target = _name(stmt.targets[0])
        if target and _name(stmt.value.left) == target:
            return target, stmt.value.right
    return None


def _initial_values(function: ast.AST) -> dict[str, object]:
    values: dict[str, object] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant):
            values.setdefault(node.targets[0].id, node.value.value)
    return values


def _loop_findings(loop: ast.For, initial: dict[str, object]) -> list[Finding]:
    found: list[Finding] = []
    body = loop.body
    if len(body) == 1 and (added := _adds_to(body[0])) is not None:
        acc = added[0]
        start = initial.get(acc)
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            found.append(Finding("QL001", f"the loop only adds to `{acc}`: use "
                                 f"`{acc} = sum(...)` over a generator", loop.lineno, None))
        elif start == "":
            found.append(Finding("QL002", f"the loop builds the string `{acc}` piece by piece: "
                                 "use `\"\".join(...)`", loop.lineno, None))
    target = loop.iter
    if isinstance(target, ast.Call) and _name(target.func) == "range" and \
            len(target.args) == 1 and isinstance(target.args[0], ast.Call) and \
            _name(target.args[0].func) == "len" and isinstance(loop.target, ast.Name):
        found.append(Finding("QL003", "the loop indexes a sequence by position: iterate over "
                             "it directly, or with `enumerate()`", loop.lineno, None))
    if len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse:
        inner = body[0].body
        if len(inner) == 2 and isinstance(inner[0], ast.Assign) and \
                isinstance(inner[0].value, ast.Constant) and \
                isinstance(inner[0].value.value, bool) and isinstance(inner[1], ast.Break):
            found.append(Finding("QL004", "the loop only sets a flag and breaks: use `any(...)`",
                                 loop.lineno, None))
    return found


def _dict_findings(node: ast.If) -> list[Finding]:
    """`if k in d: d[k] = d[k] + v  else: d[k] = v`  ->  `d[k] = d.get(k, 0) + v`."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and
            isinstance(test.ops[0], ast.In) and node.orelse):
        return []
    container = ast.unparse(test.comparators[0])
    key = ast.unparse(test.left)
    subscript = f"{container}[{key}]"
    writes = [ast.unparse(t) for s in ast.walk(node) if isinstance(s, (ast.Assign, ast.AugAssign))
              for t in (s.targets if isinstance(s, ast.Assign) else [s.target])]
    if subscript in writes:
        return [Finding("QL005", f"`if {key} in {container}: ... else: ...` that updates "
                        f"`{subscript}`: use `{container}.get({key}, ...)` or "
                        "`collections.defaultdict`", node.lineno, None)]
    return []


def pattern_findings(code: str) -> list[Finding]:
    """Loops and branches that have a clearer idiom ruff does not suggest."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found: list[Finding] = []
    for function in tree.body:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        initial = _initial_values(function)
        for node in ast.walk(function):
            if isinstance(node, ast.For):
                found.extend(_loop_findings(node, initial))
            elif isinstance(node, ast.If):
                found.extend(_dict_findings(node))
    return sorted(found, key=lambda f: f.line)
