"""Judging a rewrite and an explanation without reading it by eye.

Rewrites: does the new module parse, did the code change at all (its AST, so
formatting alone is no change), and did it change beyond annotations, docstrings
and renamed locals ("substantive"). JavaScript uses tree-sitter tokens the same way.
Explanations: mechanical checks of what the answer says about the code.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import keyword
import re
import shutil
import subprocess
from functools import lru_cache
from typing import Any

import tree_sitter_javascript
from tree_sitter import Language, Parser

JS = Language(tree_sitter_javascript.language())

# ---------------------------------------------------------------- Python rewrites


def python_parses(source: str) -> str | None:
    """None when the module compiles, else the error."""
    try:
        compile(source, "<case>", "exec")
        return None
    except (SyntaxError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


class _Normalise(ast.NodeTransformer):
    """Drop annotations and docstrings; rename each function's locals canonically."""

    def _strip_doc(self, body: list[ast.stmt]) -> list[ast.stmt]:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:] or [ast.Pass()]
        return body

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._strip_doc(node.body)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = self._strip_doc(node.body)
        return self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.body = self._strip_doc(node.body)
        node.returns = None
        for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs + \
                [x for x in (node.args.vararg, node.args.kwarg) if x is not None]:
            a.annotation = None
        params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        declared_global = {n for s in ast.walk(node) if isinstance(s, (ast.Global, ast.Nonlocal))
                           for n in s.names}
        stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        locals_ = stored - params - declared_global
        mapping: dict[str, str] = {}
        for sub in _source_order(node):
            if isinstance(sub, ast.Name) and sub.id in locals_:
                sub.id = mapping.setdefault(sub.id, f"_v{len(mapping)}")
        return self.generic_visit(node)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        return self.generic_visit(ast.Assign(targets=[node.target], value=node.value,
                                             lineno=node.lineno))


def _source_order(node: ast.AST):
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _source_order(child)


def python_change(old: str, new: str) -> tuple[bool, bool]:
    """(the AST changed, it changed beyond annotations, docstrings and renamed locals)."""
    a, b = ast.parse(old), ast.parse(new)
    changed = _dump(a) != _dump(b)
    if not changed:
        return False, False
    na = _Normalise().visit(copy.deepcopy(a))
    nb = _Normalise().visit(copy.deepcopy(b))
    return True, _dump(na) != _dump(nb)


def python_function_is_async(source: str, qualname: str) -> bool | None:
    """Whether `qualname` is an `async def` in the new source (None: not found)."""
    tree = ast.parse(source)
    parts = qualname.split(".")
    scope: list[ast.stmt] = tree.body
    for i, part in enumerate(parts):
        found = None
        for node in scope:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                    node.name == part:
                found = node
        if found is None:
            return None
        if i == len(parts) - 1:
            return isinstance(found, ast.AsyncFunctionDef)
        scope = found.body
    return None


# ---------------------------------------------------------------- JavaScript rewrites

def js_parses(source: str) -> str | None:
    tree = Parser(JS).parse(source.encode())
    if tree.root_node.has_error:
        return "tree-sitter-javascript finds a syntax error"
    node = shutil.which("node")
    if node:
        proc = subprocess.run([node, "--check", "-"], input=source, capture_output=True,
                              text=True, timeout=30)
        if proc.returncode != 0:
            return "node --check: " + proc.stderr.strip().splitlines()[-1:][0] \
                if proc.stderr.strip() else "node --check failed"
    return None


def _js_tokens(source: str, rename_locals: bool) -> list[str]:
    tree = Parser(JS).parse(source.encode())
    declared: set[str] = set()
    if rename_locals:
        stack = [tree.root_node]
        while stack:
            n = stack.pop()
            stack.extend(n.children)
            if n.type == "variable_declarator":
                name = n.child_by_field_name("name")
                if name is not None and name.type == "identifier" and _inside_function(n):
                    declared.add(name.text.decode())
    mapping: dict[str, str] = {}
    tokens: list[str] = []

    def walk(n) -> None:
        if n.type == "comment":
            return
        if n.type in ("string", "template_string") or n.child_count == 0:
            text = n.text.decode()
            if n.type == "string":
                text = "S:" + text[1:-1]
            elif n.type == ";":
                return
            elif n.type == "identifier" and text in declared:
                text = mapping.setdefault(text, f"_v{len(mapping)}")
            tokens.append(text)
            return
        for c in n.children:
            walk(c)

    walk(tree.root_node)
    return tokens


def _inside_function(node) -> bool:
    p = node.parent
    while p is not None:
        if p.type in ("function_declaration", "function_expression", "arrow_function",
                      "method_definition", "generator_function_declaration"):
            return True
        p = p.parent
    return False


def js_change(old: str, new: str) -> tuple[bool, bool]:
    changed = _js_tokens(old, False) != _js_tokens(new, False)
    if not changed:
        return False, False
    return True, _js_tokens(old, True) != _js_tokens(new, True)


def js_function_is_async(root: str, module: str, name: str) -> bool | None:
    node = shutil.which("node")
    if not node:
        return None
    script = ("const m = require(process.argv[1]); const f = m[process.argv[2]];"
              "console.log(JSON.stringify(typeof f === 'function' ? "
              "f.constructor.name === 'AsyncFunction' : null));")
    proc = subprocess.run([node, "-e", script, f"./{module}", name], cwd=root,
                          capture_output=True, text=True, timeout=30)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return None


# ---------------------------------------------------------------- explanations

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
JS_KEYWORDS = set("""break case catch class const continue debugger default delete do else
export extends finally for function if import in instanceof new return super switch this
throw try typeof var void while with yield let static enum await implements package
protected interface private public null true false undefined async of get set NaN
Infinity arguments""".split())
WORD_LIMIT = 200


@lru_cache(maxsize=1)
def js_globals() -> frozenset[str]:
    node = shutil.which("node")
    names: set[str] = set()
    if node:
        script = ("const s=new Set();for(const g of Object.getOwnPropertyNames(globalThis)){"
                  "s.add(g);try{for(const k of Object.getOwnPropertyNames(globalThis[g]))s.add(k);"
                  "const p=globalThis[g]&&globalThis[g].prototype;"
                  "if(p)for(const k of Object.getOwnPropertyNames(p))s.add(k)}catch(e){}}"
                  "for(const k of ['then','catch','finally','length','push','map','filter',"
                  "'reduce','forEach','join','split','slice','require','module','exports',"
                  "'readFileSync','writeFileSync','execSync','setTimeout'])s.add(k);"
                  "console.log(JSON.stringify([...s]))")
        proc = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
        names = set(json.loads(proc.stdout))
    return frozenset(names)


def _python_known() -> set[str]:
    names = set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)
    for t in (str, list, dict, set, tuple, int, float, bytes):
        names |= set(dir(t))
    return names


PY_KNOWN = _python_known()


def _prose(markdown: str) -> str:
    """The text outside fenced blocks and inline code."""
    text = re.sub(r"```.*?(```|\Z)", " ", markdown, flags=re.S)
    return re.sub(r"`[^`]*`", " ", text)


def _labels(markdown: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"\*\*([^*\n]+?)\*\*", markdown)]


def _returns_section(markdown: str, zh: bool) -> bool:
    """A "Returns" label (English, or 返回 in Chinese) followed by some content."""
    lines = markdown.splitlines()
    label = re.compile(r"^\s*(?:[-*]\s*)?(?:#+\s*)?\**\s*(returns?|return value|返回值?|返回)\b",
                       re.I) if not zh else re.compile(
        r"^\s*(?:[-*]\s*)?(?:#+\s*)?\**\s*(返回值?|返回|输出|returns?)", re.I)
    for i, line in enumerate(lines):
        m = label.match(line)
        if not m:
            continue
        rest = re.sub(r"^[\s*:：#-]+", "", line[m.end():]).strip("* ")
        if len(rest) >= 3:
            return True
        for nxt in lines[i + 1:i + 4]:
            if nxt.strip() and not re.match(r"^\s*\*\*[^*]+\*\*\s*[:：]?\s*$", nxt):
                return True
    return False


def word_count(markdown: str) -> int:
    text = re.sub(r"```.*?(```|\Z)", " ", markdown, flags=re.S)
    cjk = len(CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z0-9_'-]+", CJK.sub(" ", text)))
    return latin + (cjk + 1) // 2


def cjk_share(markdown: str) -> float:
    prose = _prose(markdown)
    cjk = len(CJK.findall(prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def explain_checks(markdown: str, case: dict[str, Any], module_source: str,
                   language: str = "en") -> dict[str, Any]:
    """Each check's verdict, plus the details that explain a failure."""
    zh = language == "zh"
    text = markdown or ""
    lowered = text.lower()
    name = case["name"]
    params = case["params"]
    known = PY_KNOWN if case["language"] == "python" else set(js_globals()) | JS_KEYWORDS
    code_names = set(IDENT.findall(module_source))
    invented = []
    for span in re.findall(r"`([^`\n]+)`", text):
        stripped = re.sub(r"(['\"]).*?\1", " ", span)
        for ident in IDENT.findall(stripped):
            if ident not in code_names and ident not in known:
                invented.append(ident)
    missing_params = [p for p in params if not re.search(
        r"(?<![A-Za-z0-9_])" + re.escape(p) + r"(?![A-Za-z0-9_])", text)]
    words = word_count(text)
    checks: dict[str, Any] = {
        "names_function": name.lower() in lowered,
        "names_params": not missing_params,
        "returns_section": _returns_section(text, zh),
        "no_invented_identifiers": not invented,
        "within_length": 0 < words <= WORD_LIMIT,
    }
    details: dict[str, Any] = {"missing_params": missing_params,
                               "invented": sorted(set(invented))[:20], "words": words}
    if zh:
        share = cjk_share(text)
        labels = _labels(text)
        english_labels = [lb for lb in labels if re.search(r"[A-Za-z]", lb)
                          and not CJK.search(lb)]
        checks["mostly_chinese"] = share >= 0.5
        checks["chinese_labels"] = not english_labels
        details.update({"cjk_share": round(share, 3), "english_labels": english_labels})
    checks["all"] = all(v for v in checks.values())
    return {"checks": checks, "details": details}
