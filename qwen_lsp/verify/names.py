"""Which names a Python function uses, and whether all of them are safe to run.

`plan_python` decides, without running anything, whether two versions of a function can
be run side by side: every free name must be a builtin from an allowlist, a name imported
from an allowlisted pure module, a same-file helper function or class (checked the same
way, recursively), a module-level constant whose value is a literal or a safe expression,
or a name defined nowhere (then running it only raises NameError, which is worth knowing).
Anything else gives a reason in words ("it calls open()").
"""

from __future__ import annotations

import ast
import builtins
import symtable
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

# Builtins a pure function may use. print is allowed: the child's stdout is /dev/null.
SAFE_BUILTINS = frozenset({
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "bytearray", "bytes",
    "callable", "chr", "classmethod", "complex", "delattr", "dict", "divmod", "enumerate",
    "filter", "float", "format", "frozenset", "getattr", "hasattr", "hash", "hex", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "memoryview", "min",
    "next", "object", "oct", "ord", "pow", "print", "property", "range", "repr", "reversed",
    "round", "set", "setattr", "slice", "sorted", "staticmethod", "str", "sum", "tuple",
    "type", "zip", "True", "False", "None", "NotImplemented", "Ellipsis", "__build_class__",
} | {name for name, value in vars(builtins).items()
     if isinstance(value, type) and issubclass(value, BaseException)})

UNSAFE_BUILTINS = {
    "open": "it calls open()", "exec": "it calls exec()", "eval": "it calls eval()",
    "compile": "it calls compile()", "__import__": "it calls __import__()",
    "input": "it calls input()", "breakpoint": "it calls breakpoint()",
    "globals": "it calls globals()", "locals": "it calls locals()", "vars": "it calls vars()",
    "exit": "it calls exit()", "quit": "it calls quit()", "help": "it calls help()",
    "id": "it calls id(), whose values differ from run to run",
    "super": "it calls super(), which needs its class",
}

# Modules whose functions compute without touching the outside world.
PURE_MODULES = frozenset({
    "abc", "array", "base64", "binascii", "bisect", "calendar", "cmath", "collections",
    "collections.abc", "colorsys", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "enum", "fnmatch", "fractions", "functools", "hashlib", "heapq",
    "html", "io", "ipaddress", "itertools", "json", "keyword", "math", "numbers",
    "operator", "re", "shlex", "statistics", "string", "struct", "textwrap", "types",
    "typing", "unicodedata", "urllib.parse", "warnings", "zlib",
})
# Attributes of otherwise pure modules (or their classes) that are not pure.
IMPURE_ATTRIBUTES = {
    "now": "it reads the clock", "today": "it reads the clock",
    "utcnow": "it reads the clock", "open": "it opens files", "FileIO": "it opens files",
    "open_code": "it opens files", "getcontext": "it changes the decimal context",
    "setcontext": "it changes the decimal context", "localcontext": "",
}
# Modules of which only some attributes are pure.
PARTLY_PURE = {
    "os": {"path.join", "path.basename", "path.dirname", "path.split", "path.splitext",
           "path.normpath", "path.normcase", "path.isabs", "path.commonprefix",
           "path.commonpath", "path.splitdrive", "sep", "altsep", "extsep", "pathsep",
           "linesep", "curdir", "pardir"},
    "sys": {"maxsize", "maxunicode", "float_info", "int_info", "byteorder", "version_info",
            "hexversion"},
}
PARTLY_PURE["os.path"] = {name.removeprefix("path.") for name in PARTLY_PURE["os"]
                          if name.startswith("path.")}
PARTLY_PURE["posixpath"] = PARTLY_PURE["os.path"]
RANDOM_MODULES = {"random": "it uses random numbers", "secrets": "it uses random numbers",
                  "uuid": "it makes unique ids", "time": "it reads the clock or sleeps"}
BAD_ATTRIBUTES = frozenset({
    "__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__",
    "__loader__", "__spec__", "__reduce__", "__reduce_ex__", "gi_frame", "gi_code",
    "cr_frame", "ag_frame", "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame",
})
MODULE_DUNDERS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__",
                            "__package__", "__path__", "__builtins__", "__dict__",
                            "__class__"})

# Where common names come from, for undefined-name advice (and actions/checks.py adds
# the import it names): only names that mean one thing, so no `count`, `log`, `replace`,
# `field`, `add`...
HOME_OF = {
    **dict.fromkeys(["reduce", "partial", "lru_cache", "wraps", "cmp_to_key",
                     "cached_property", "total_ordering", "singledispatch"], "functools"),
    **dict.fromkeys(["defaultdict", "Counter", "OrderedDict", "deque", "namedtuple",
                     "ChainMap"], "collections"),
    **dict.fromkeys(["chain", "groupby", "islice", "accumulate", "permutations",
                     "combinations", "zip_longest", "starmap", "takewhile", "dropwhile",
                     "pairwise", "filterfalse", "combinations_with_replacement"],
                    "itertools"),
    **dict.fromkeys(["sqrt", "floor", "ceil", "pi", "inf", "isclose", "gcd", "lcm", "prod",
                     "fsum", "isqrt", "comb", "factorial", "hypot", "isnan", "isinf"],
                    "math"),
    **dict.fromkeys(["List", "Dict", "Optional", "Any", "Tuple", "Union", "Iterable",
                     "Iterator", "Callable", "Sequence", "Mapping", "TypeVar", "Generator",
                     "cast"], "typing"),
    **dict.fromkeys(["dataclass", "asdict", "astuple"], "dataclasses"),
    **dict.fromkeys(["itemgetter", "attrgetter", "methodcaller"], "operator"),
    **dict.fromkeys(["heappush", "heappop", "heapify", "nlargest", "nsmallest",
                     "heapreplace", "heappushpop"], "heapq"),
    **dict.fromkeys(["bisect_left", "bisect_right", "insort"], "bisect"),
    **dict.fromkeys(["mean", "median", "stdev", "pstdev"], "statistics"),
    "deepcopy": "copy", "Fraction": "fractions", "Decimal": "decimal", "Path": "pathlib",
    "dedent": "textwrap", "ascii_letters": "string", "ascii_lowercase": "string",
    "ascii_uppercase": "string",
}

_RECEIVER_DECORATORS = ("staticmethod", "classmethod", "property")


class Unsafe(Exception):
    """The function cannot be run safely; str() is the reason, in words."""


@dataclass
class _Import:
    line: str        # the statement that binds the name, alone: "from math import sqrt"
    module: str      # dotted module the name comes from
    attribute: str | None  # for `from m import a`: a


@dataclass
class ModuleFacts:
    imports: dict[str, _Import] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    constants: dict[str, ast.stmt] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)
    conditional: set[str] = field(default_factory=set)
    star_from: list[str] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict)
    source: str = ""


def module_facts(source: str) -> ModuleFacts:
    """The names a module binds at its top level, and how."""
    facts = ModuleFacts(source=source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return facts
    seen: set[str] = set()

    def bind(name: str, node: ast.stmt) -> None:
        if name in seen:
            facts.repeated.add(name)
        seen.add(name)
        facts.order.setdefault(name, node.lineno)

    def register(node: ast.stmt) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported = imports_of(node)
            if None in imported:
                facts.star_from.append(imported.pop(None).module)  # type: ignore[call-overload]
            for bound, what in imported.items():
                facts.imports[bound] = what  # type: ignore[index]
                bind(bound, node)  # type: ignore[arg-type]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            facts.functions[node.name] = node
            bind(node.name, node)
        elif isinstance(node, ast.ClassDef):
            facts.classes[node.name] = node
            bind(node.name, node)
        elif isinstance(node, ast.Assign) and _unpacked(node) is not None:
            for name, value in _unpacked(node):  # type: ignore[union-attr]
                facts.constants[name] = ast.Assign(targets=[ast.Name(name, ast.Store())],
                                                   value=value, lineno=node.lineno)
                bind(name, node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            simple = len(targets) == 1 and isinstance(targets[0], ast.Name) and node.value
            for name in _stored_names(targets):
                if simple:
                    facts.constants[name] = node
                else:
                    facts.conditional.add(name)
                bind(name, node)
        elif isinstance(node, ast.Try) and _import_fallback(node) is not None:
            # `try: <a faster or optional import> except ImportError: <fallback>`: the
            # check runs with only the standard library, so the fallback is what runs
            fallback = _import_fallback(node)
            before = set(seen)
            for statement in fallback.body:  # type: ignore[union-attr]
                register(statement)
            for name in _bound_anywhere(node) - (seen - before):
                facts.conditional.add(name)
                bind(name, node)
        else:  # if/try/for/with/aug-assign...: what they bind depends on running them
            for name in _bound_anywhere(node):
                facts.conditional.add(name)
                bind(name, node)

    for node in tree.body:
        register(node)
    return facts


def _unpacked(node: ast.Assign) -> list[tuple[str, ast.expr]] | None:
    """`A, B, C = range(3)` or `A, B = 1, "x"`: each name with its own value, or None."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], (ast.Tuple, ast.List)):
        return None
    names = node.targets[0].elts
    if not all(isinstance(n, ast.Name) for n in names):
        return None
    value = node.value
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names) and not any(
            isinstance(v, ast.Starred) for v in value.elts):
        values = list(value.elts)
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and \
            value.func.id == "range" and len(value.args) == 1 and not value.keywords and \
            isinstance(value.args[0], ast.Constant) and value.args[0].value == len(names):
        values = [ast.Constant(i) for i in range(len(names))]
    else:
        return None
    return [(n.id, v) for n, v in zip(names, values, strict=True)]  # type: ignore[attr-defined]


def _import_fallback(node: ast.Try) -> ast.ExceptHandler | None:
    """The `except ImportError` (or ModuleNotFoundError) handler of a `try` that only
    imports and assigns, or None."""
    if node.orelse or node.finalbody or not all(
            isinstance(s, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign))
            for s in node.body):
        return None
    for handler in node.handlers:
        caught = handler.type
        names = ([ast.unparse(e) for e in caught.elts] if isinstance(caught, ast.Tuple)
                 else [ast.unparse(caught)] if caught is not None else [])
        if any(n in ("ImportError", "ModuleNotFoundError") for n in names):
            return handler
    return None


def imports_of(node: ast.Import | ast.ImportFrom) -> dict[str | None, _Import]:
    """bound name -> what an import statement binds it to; None for a `*` import."""
    found: dict[str | None, _Import] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else alias.name.split(".")[0]
            text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
            found[bound] = _Import(text, module, None)
        return found
    module = "." * node.level + (node.module or "")
    for alias in node.names:
        if alias.name == "*":
            found[None] = _Import(f"from {module} import *", module, "*")
            continue
        bound = alias.asname or alias.name
        text = f"from {module} import {alias.name}" + (
            f" as {alias.asname}" if alias.asname else "")
        found[bound] = _Import(text, module, alias.name)
    return found


def _stored_names(nodes: Iterable[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _bound_anywhere(node: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names)
    return names


class _DropAnnotations(ast.NodeTransformer):
    """Argument and return annotations are evaluated when a def runs; they never change
    what the function computes, so they are removed rather than resolved."""

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                    node.args.vararg, node.args.kwarg]:
            if arg is not None:
                arg.annotation = None
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Constant(value=None)
        return node


@dataclass
class Version:
    """One version of the function, made runnable on its own."""

    code: str                     # annotation-free source, to exec
    function: ast.FunctionDef | ast.AsyncFunctionDef  # the def, as written (annotations kept)
    defined: set[str]             # names its text binds at top level


def parse_version(text: str, name: str, *, method: bool, which: str) -> Version:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise Unsafe(f"the {which} does not parse ({exc.msg}, line {exc.lineno})") from None
    function = next((n for n in tree.body if isinstance(n, (ast.FunctionDef,
                                                          ast.AsyncFunctionDef))
                     and n.name == name), None)
    if function is None:
        raise Unsafe(f"the {which} does not define `{name}`")
    original_function = ast.parse(ast.unparse(function)).body[0]
    if method:
        function.decorator_list = [d for d in function.decorator_list
                                   if ast.unparse(d) not in _RECEIVER_DECORATORS]
    stripped = _DropAnnotations().visit(tree)
    return Version(ast.unparse(stripped), original_function,  # type: ignore[arg-type]
                   _top_level_names(stripped.body))


def _top_level_names(body: list[ast.stmt]) -> set[str]:
    """The names a module text binds at its top level."""
    defined: set[str] = set()
    for node in body:
        defined |= _bound_anywhere(node) if not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else {node.name}
    return defined


def _scope_names(code: str) -> tuple[dict[str, None], set[str]]:
    """(the free names, in order, names assigned with `global`) of a module text, over all
    its scopes."""
    used: dict[str, None] = {}
    assigned_globals: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if table.get_type() == "module":
                if symbol.is_referenced() and not (symbol.is_assigned() or symbol.is_imported()):
                    used.setdefault(name)
            elif symbol.is_global() and symbol.is_referenced():
                used.setdefault(name)
            if table.get_type() != "module" and symbol.is_declared_global() and (
                    symbol.is_assigned()):
                assigned_globals.add(name)
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(code, "<function>", "exec"))
    return used, assigned_globals


def _attribute_paths(tree: ast.AST, name: str) -> list[tuple[str, bool]]:
    """Each use of `name` as the dotted path read from it, and whether it is called:
    `os.path.join(x)` -> ("path.join", True); a bare `os` -> ("", False)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            path, top = [], node
            while isinstance(parents.get(top), ast.Attribute):
                top = parents[top]
                path.append(top.attr)  # type: ignore[attr-defined]
            called = isinstance(parents.get(top), ast.Call) and parents[top].func is top  # type: ignore[attr-defined]
            uses.append((".".join(path), called))
    return uses


@dataclass
class Receiver:
    """A method that uses its `self`/`cls`: each version is its whole class (the method
    replaced in the rewrite's), and a case builds an instance before calling it."""

    class_name: str
    method: str
    kind: str  # "self", "cls", "property" (read, not called) or "init" (the constructor)
    init: ast.FunctionDef | None  # the constructor whose parameters build an instance


@dataclass
class Plan:
    """What the child needs: the shared prelude, both versions, how to call them."""

    prelude: str
    original: Version
    rewritten: Version
    dummy_self: bool
    params_from: int  # parameters of the original that inputs are made for start here
    receiver: Receiver | None = None


class _Resolver:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.needed: dict[str, str] = {}  # name -> its statement text, for the prelude
        self.visiting: set[str] = set()

    def check_code(self, code: str, tree: ast.AST, defined: set[str], who: str) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in BAD_ATTRIBUTES:
                raise Unsafe(f"{who} uses `.{node.attr}`")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # imports in the code itself (in the function, or above it in the answer)
                for bound, imported in imports_of(node).items():
                    if bound is None:
                        raise Unsafe(f"{who} uses `{imported.line}`")
                    self.resolve_import(bound, imported, tree, who, keep=False)
        try:
            used, assigned = _scope_names(code)
        except SyntaxError as exc:
            raise Unsafe(f"{who} does not compile ({exc.msg})") from None
        if assigned:
            raise Unsafe(f"{who} assigns the global `{sorted(assigned)[0]}`")
        for name in used:
            if name in defined:
                continue
            self.resolve(name, tree, who)

    def resolve(self, name: str, tree: ast.AST, who: str) -> None:
        facts = self.facts
        if name in self.needed or name in self.visiting:
            return
        if name in facts.repeated:
            raise Unsafe(f"{who} uses `{name}`, which is bound more than once in the file")
        if name in facts.imports:
            self.resolve_import(name, facts.imports[name], tree, who)
        elif name in facts.functions:
            self.resolve_helper(name, who)
        elif name in facts.classes:
            self.resolve_helper(name, who)
        elif name in facts.constants:
            self.resolve_constant(name, who)
        elif name in facts.conditional:
            raise Unsafe(f"{who} uses `{name}`, which is set by code at module level")
        elif name in UNSAFE_BUILTINS:
            raise Unsafe(UNSAFE_BUILTINS[name] if who == "it" else
                         f"{who} {UNSAFE_BUILTINS[name].removeprefix('it ')}")
        elif name in MODULE_DUNDERS:
            raise Unsafe(f"{who} uses the module's `{name}`")
        elif name in SAFE_BUILTINS:
            return
        elif hasattr(builtins, name):
            raise Unsafe(f"{who} uses the builtin `{name}`")
        elif facts.star_from:
            raise Unsafe(f"{who} uses `{name}`, which may come from "
                         f"`from {facts.star_from[0]} import *`")
        # else: defined nowhere; running it raises NameError, which the check reports

    def resolve_import(self, name: str, imported: _Import, tree: ast.AST, who: str, *,
                       keep: bool = True) -> None:
        """Refuse an import unless its module is pure; `keep`: the prelude needs it."""
        module = imported.module
        full = f"{module}.{imported.attribute}" if imported.attribute else module
        for root, reason in RANDOM_MODULES.items():
            if module == root or module.startswith(root + "."):
                raise Unsafe(f"{who} {reason.removeprefix('it ')} (`{full}`)"
                             if who != "it" else f"{reason} (`{name}`)")
        uses = _attribute_paths(tree, name)
        attribute = imported.attribute
        if attribute and (full in PURE_MODULES or full in PARTLY_PURE):
            module, attribute = full, None  # from collections import abc; from os import path
        if module in PARTLY_PURE and attribute is None:
            allowed = PARTLY_PURE[module]
            for path, called in uses:
                if not any(path == a or path.startswith(a + ".") for a in allowed):
                    raise Unsafe(f"{who} {'calls' if called else 'uses'} `{name}.{path}`"
                                 if path else f"{who} uses the module `{name}`")
        elif module in PARTLY_PURE:
            if attribute not in PARTLY_PURE[module]:
                raise Unsafe(f"{who} uses `{full}`")
        elif module not in PURE_MODULES and not any(
                module.startswith(p + ".") for p in PURE_MODULES):
            path, called = next(((p, c) for p, c in uses if p), ("", False))
            shown = f"{name}.{path}" if path else name
            verb = "calls" if called else "uses"
            raise Unsafe(f"{who} {verb} `{shown}`" + (
                f" (`{module}` is not a module known to be pure)" if module != name else ""))
        for path, _called in uses:
            for part in [attribute or "", *path.split(".")]:
                if part in IMPURE_ATTRIBUTES:
                    reason = IMPURE_ATTRIBUTES[part] or "it changes global state"
                    shown = ".".join(p for p in (name, path) if p)
                    raise Unsafe(f"{reason} (`{shown}`)" if who == "it"
                                 else f"{who} {reason.removeprefix('it ')} (`{shown}`)")
        if keep:
            self.needed[name] = imported.line

    def resolve_helper(self, name: str, who: str) -> None:
        """A same-file function or class goes along if everything it uses may."""
        node = self.facts.functions.get(name) or self.facts.classes[name]
        kind = "class" if isinstance(node, ast.ClassDef) else "helper"
        self.visiting.add(name)
        tree = ast.Module(body=[_DropAnnotations().visit(ast.parse(ast.unparse(node)).body[0])],
                          type_ignores=[])
        code = ast.unparse(tree)
        own = {name, "super", "__class__"} if kind == "class" else {name}
        self.check_code(code, tree, own, f"its {kind} `{name}`")
        self.visiting.discard(name)
        self.needed[name] = code

    def resolve_constant(self, name: str, who: str) -> None:
        node = self.facts.constants[name]
        value = node.value  # type: ignore[attr-defined]
        text = f"{name} = {ast.unparse(value)}"
        try:
            ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            self.visiting.add(name)
            try:
                tree = ast.parse(text)
                self.check_code(text, tree, {name}, f"the module-level name `{name}`")
            except Unsafe:
                raise Unsafe(f"{who} uses the module-level name `{name}`, which is not a "
                             f"literal (`{_clip(ast.unparse(value))}`)") from None
            finally:
                self.visiting.discard(name)
        self.needed[name] = text

    def prelude(self) -> str:
        order = self.facts.order
        names = sorted(self.needed, key=lambda n: (n not in self.facts.imports,
                                                   order.get(n, 0)))
        return "\n".join(self.needed[n] for n in names) + "\n"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plan_python(module_source: str, original: str, rewritten: str, name: str,
                class_name: str | None) -> Plan:
    """Everything needed to run both versions, or Unsafe with the reason."""
    method = class_name is not None
    before = parse_version(_normalised(original, _from_file(module_source, name, class_name)),
                           name, method=method, which="original")
    after = parse_version(_normalised(rewritten), name, method=method, which="rewrite")
    if not _parses(module_source):
        raise Unsafe("the file does not parse, so what the function uses is unknown")
    facts = module_facts(module_source)
    if not method and name not in facts.functions and name in {
            n.name for n in ast.walk(ast.parse(module_source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}:
        raise Unsafe("it is defined inside another function")
    dummy_self, params_from = False, 0
    for version in (before, after):
        if isinstance(version.function, ast.AsyncFunctionDef):
            raise Unsafe("it is an async function")
    if method:
        try:
            dummy_self, params_from = _method_receiver(before, after, name)
        except _UsesReceiver as uses:
            return _plan_with_receiver(facts, module_source, rewritten, name,
                                       class_name, str(uses))  # type: ignore[arg-type]
    resolver = _Resolver(facts)
    for version, who in ((before, "it"), (after, "the rewrite")):
        tree = ast.parse(version.code)
        resolver.check_code(version.code, tree, version.defined, who)
    return Plan(resolver.prelude(), before, after, dummy_self, params_from)


def _normalised(text: str, from_file: str | None = None) -> str:
    """A definition as written in the file, made parseable alone: LF line ends, and the
    common indentation of a method or nested definition removed; failing that (a
    multi-line string less indented than the code), `from_file`."""
    text = text.replace("\r\n", "\n")
    if _parses(text):
        return text
    for candidate in (textwrap.dedent(text), _without_first_indent(text)):
        if _parses(candidate):
            return candidate
    return from_file if from_file is not None else text


def _without_first_indent(text: str) -> str:
    """The first line's indentation taken off every line that has it (the lines of a
    multi-line string that start further left keep theirs)."""
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    return "\n".join(line[len(indent):] if line.startswith(indent) else line
                     for line in text.split("\n"))


def _from_file(module_source: str, name: str, class_name: str | None) -> str | None:
    """The definition of `name` (in class `class_name`) as the file has it, re-printed
    from its syntax tree, so parseable alone whatever its indentation was."""
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return None
    scope: list[ast.stmt] = tree.body
    if class_name is not None:
        owner = next((n for n in tree.body if isinstance(n, ast.ClassDef)
                      and n.name == class_name), None)
        scope = owner.body if owner is not None else []
    node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == name), None)
    return ast.unparse(node) if node is not None else None


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _method_receiver(before: Version, after: Version, name: str) -> tuple[bool, int]:
    """(call with a dummy first argument?, index of the first input parameter)."""
    decorators = {ast.unparse(d) for d in before.function.decorator_list}
    if "staticmethod" in decorators:
        return False, 0
    for version in (before, after):
        args = version.function.args
        positional = [*args.posonlyargs, *args.args]
        if not positional:
            raise Unsafe("it is a method without a `self` parameter")
        if _uses(version.function, "super"):
            raise _UsesReceiver("it calls super()" if version is before
                                else "the rewrite calls super()")
        if _uses(version.function, positional[0].arg):
            raise _UsesReceiver(f"it uses `{positional[0].arg}`" if version is before
                                else f"the rewrite uses `{positional[0].arg}`")
    return True, 1


class _UsesReceiver(Exception):
    """The method (or its rewrite) uses its `self`/`cls`; str() says which."""


def _plan_with_receiver(facts: ModuleFacts, module_source: str, rewritten: str, name: str,
                        class_name: str, uses: str) -> Plan:
    """Each version is the method's whole class, the rewrite's with the method replaced;
    cases build an instance with the class's constructor and call the method on it."""
    owner = facts.classes.get(class_name)
    if owner is None or class_name in facts.repeated:
        raise Unsafe(f"{uses}, and its class is not defined once at the top of the file")
    methods = [n for n in owner.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
               and n.name == name]
    if len(methods) != 1:
        raise Unsafe(f"{uses}, and its class defines `{name}` more than once" if methods
                     else f"{uses}, and its class in the file does not define `{name}`")
    method = methods[0]
    decorators = [ast.unparse(d) for d in method.decorator_list]
    if any(d.endswith((".setter", ".deleter")) for d in decorators):
        raise Unsafe(f"{uses}, and it is a property setter")
    kind = ("init" if name == "__init__" else "cls" if "classmethod" in decorators
            else "property" if "property" in decorators else "self")
    if "staticmethod" in decorators or any(
            d not in _RECEIVER_DECORATORS for d in decorators):
        raise Unsafe(f"{uses}, and it has the decorator `@{decorators[0]}`"
                     if decorators else uses)
    try:
        answer = ast.parse(_normalised(rewritten))
    except SyntaxError as exc:
        raise Unsafe(f"the rewrite does not parse ({exc.msg}, line {exc.lineno})") from None
    new_defs = [n for n in answer.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name == name]
    if len(new_defs) != 1:
        raise Unsafe(f"the rewrite does not define `{name}` once")
    new_def = new_defs[0]
    if isinstance(new_def, ast.AsyncFunctionDef):
        raise Unsafe("it is an async function")
    if not new_def.decorator_list:  # left out of the answer: the edit keeps them (checks.py)
        new_def.decorator_list = list(method.decorator_list)
    if [ast.unparse(d) for d in new_def.decorator_list] != decorators:
        raise Unsafe("the rewrite changes the method's decorators")
    above = [n for n in answer.body if n is not new_def]  # e.g. an import the answer added
    versions = []
    for replacement in (method, new_def):
        klass = ast.parse(ast.unparse(owner)).body[0]
        index = next(i for i, n in enumerate(owner.body) if n is method)
        klass.body[index] = ast.parse(ast.unparse(replacement)).body[0]  # type: ignore[attr-defined]
        body = ([] if replacement is method else
                [ast.parse(ast.unparse(n)).body[0] for n in above]) + [klass]
        tree = _DropAnnotations().visit(ast.Module(body=body, type_ignores=[]))
        function = ast.parse(ast.unparse(replacement)).body[0]
        versions.append(Version(ast.unparse(tree), function,  # type: ignore[arg-type]
                                {class_name} | _top_level_names(tree.body)))
    resolver = _Resolver(facts)
    for version, who in ((versions[0], f"its class `{class_name}`"),
                         (versions[1], "the rewrite")):
        tree = ast.parse(version.code)
        resolver.check_code(version.code, tree, version.defined | {"super", "__class__"}, who)
    receiver = Receiver(class_name, name, kind, _constructor(facts, owner))
    return Plan(resolver.prelude(), versions[0], versions[1], False, 1, receiver)


def _constructor(facts: ModuleFacts, owner: ast.ClassDef,
                 seen: frozenset[str] = frozenset()) -> ast.FunctionDef | None:
    """The `__init__` that builds an instance of `owner`: its own, a same-file base's, or
    one made from the fields of a dataclass or NamedTuple; None when it takes nothing."""
    own = next((n for n in owner.body if isinstance(n, ast.FunctionDef)
                and n.name == "__init__"), None)
    if own is not None:
        return own
    decorators = {ast.unparse(d).split("(")[0] for d in owner.decorator_list}
    bases = [ast.unparse(b) for b in owner.bases]
    if decorators & {"dataclass", "dataclasses.dataclass"} or any(
            b in ("NamedTuple", "typing.NamedTuple") for b in bases):
        # keyword-only: a field whose default is not a literal is left out (it keeps its
        # default), and the ones after it must not shift into its place
        fields = []
        for node in owner.body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)) or (
                    "ClassVar" in ast.unparse(node.annotation)):
                continue
            field_text = f"{node.target.id}: {ast.unparse(node.annotation)}"
            if node.value is not None:
                try:
                    ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    continue
                field_text += f" = {ast.unparse(node.value)}"
            fields.append(field_text)
        if not fields:
            return None
        try:
            made = ast.parse(f"def __init__(self, *, {', '.join(fields)}): pass").body[0]
        except SyntaxError:
            return None
        return made  # type: ignore[return-value]
    for base in bases:
        if base in facts.classes and base not in seen:
            return _constructor(facts, facts.classes[base], seen | {owner.name})
    return None


def _uses(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """Whether the body (nested scopes included) mentions `name` at all."""
    body = ast.Module(body=function.body, type_ignores=[])
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(body))
