"""Convert a function to async by exact rules: no model, same results when awaited.

Python, always by rule:
- ``time.sleep(x)`` becomes ``await asyncio.sleep(x)``;
- a known blocking call whose work ends when it returns (``requests.get``,
  ``subprocess.run``, ``urllib.request.urlopen``, ...) is run in a thread:
  ``await asyncio.to_thread(f, *args, **kwargs)``: the same call, the same result;
- ``asyncio.run(coro)`` becomes ``await coro`` (it cannot run inside a running loop);
- a recursive call is awaited;
- anything else is left as it is: the function keeps doing what it did.
Import aliases are followed (``from subprocess import run as sh``). A call that
cannot be awaited where it stands (inside a lambda or a nested function) is left
synchronous, and a generator expression that would have to await becomes a list
comprehension when a function consumes it at once (``sum(...)``, ``max(...)``, ...).

JavaScript/TypeScript: by rule when the function has no promise chain
(``.then``/``.catch``/``.finally``): the ``async`` keyword and awaited recursive
calls. Promise chains go to the model. The ``async`` keyword itself and the call
sites in other functions are added by `actions.rewrite`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from qwen_lsp.actions.span import Source, Span

# Blocking calls whose work is done when they return: run in a thread, awaited.
TO_THREAD = frozenset({
    *(f"requests.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "options",
                                "request")),
    *(f"httpx.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "options",
                             "request")),
    "urllib.request.urlopen", "urllib.request.urlretrieve",
    *(f"subprocess.{m}" for m in ("run", "call", "check_call", "check_output", "getoutput",
                                  "getstatusoutput")),
    "os.system",
    *(f"shutil.{m}" for m in ("copy", "copy2", "copyfile", "copytree", "rmtree", "move",
                              "make_archive", "unpack_archive", "disk_usage", "which")),
    "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyaddr",
})
SLEEP = "time.sleep"
# Consumers that read a whole iterable at once: their generator argument can be a list.
# (not any/all, which stop early, nor enumerate/zip, which are lazy themselves)
_EAGER_CONSUMERS = frozenset({"sum", "min", "max", "sorted", "list", "tuple", "set",
                              "frozenset", "dict", "join", "Counter", "deque", "update",
                              "extend"})
_PY_SCOPES = frozenset({"function_definition", "lambda", "class_definition"})
_JS_SCOPES = frozenset({"function_declaration", "function_expression", "arrow_function",
                        "method_definition", "generator_function_declaration",
                        "generator_function", "function", "class_declaration", "class"})
_JS_CHAINS = frozenset({"then", "catch", "finally"})


@dataclass
class Conversion:
    """The converted span (dedented, like ``span.code``) and what was done."""

    code: str
    notes: list[str] = field(default_factory=list)


@dataclass
class _Edits:
    replacements: list[tuple[int, int, str]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # what the rules did, for the notes
    left: list[str] = field(default_factory=list)  # what they left synchronous, and why
    listified: set[int] = field(default_factory=set)  # generator expressions made lists
    # at one position, a lower rank ends up further left: `[` (0) before `await ` (1)
    ranks: list[int] = field(default_factory=list)

    def add(self, start: int, end: int, text: str, rank: int = 1) -> None:
        self.replacements.append((start, end, text))
        self.ranks.append(rank)

    def ordered(self) -> list[tuple[int, int, str]]:
        """Right to left, so that each replacement's offsets are still valid."""
        pairs = sorted(zip(self.replacements, self.ranks, strict=True),
                       key=lambda p: (p[0][0], p[0][1], p[1]), reverse=True)
        return [r for r, _ in pairs]


def _walk(node: Node, stop: frozenset[str]) -> Iterator[Node]:
    """The node's descendants in document order, not entering nested scopes of the given
    types (an explicit stack: 10,000 levels of nesting must not hit the recursion limit)."""
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        yield child
        if child.type not in stop:
            stack.extend(reversed(child.children))


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", errors="replace")


def _function_node(source: Source, span: Span, types: tuple[str, ...]) -> Node | None:
    assert source.doc is not None
    target = span.target
    node = source.doc.tree.root_node.descendant_for_byte_range(target.def_start_byte,
                                                              target.def_start_byte)
    while node is not None and (node.type not in types or not node.is_named
                                or node.start_byte < target.def_start_byte):
        node = node.parent
    return node


def rule_based_async(source: Source, span: Span, *,
                     keep_promise_chains: bool = False) -> Conversion | None:
    """The exact conversion, or None when the model is needed (JS promise chains,
    unless `keep_promise_chains`: then they stay, which gives the same results)."""
    if source.doc is None or source.spec is None or span.target.kind == "class":
        return None
    if source.spec.name == "python":
        node = _function_node(source, span, ("function_definition",))
        if node is None:
            return None
        edits = _python_edits(source, span, node)
    elif source.spec.supports_async:
        node = _js_function(source, span)
        if node is None or (_has_promise_chain(source.text, node)
                            and not keep_promise_chains):
            return None
        edits = _js_edits(source, span, node)
    else:
        return None
    return Conversion(code=_apply(source, span, edits.ordered()), notes=_notes(edits))


def _notes(edits: _Edits) -> list[str]:
    done = "; ".join(dict.fromkeys(edits.done)) or "no blocking call found, so only `async` " \
        "was added"
    notes = [f"converted by exact rules, no model needed: {done}"]
    notes.extend(dict.fromkeys(edits.left))
    return notes


def _apply(source: Source, span: Span, replacements: list[tuple[int, int, str]]) -> str:
    out = source.text[span.start_byte:span.end_byte]
    for start, end, new in replacements:
        out = out[: start - span.start_byte] + new.encode() + out[end - span.start_byte:]
    code = out.decode("utf-8")
    if span.indent:
        code = "\n".join(line[len(span.indent):] if line.startswith(span.indent) else line
                         for line in code.split("\n"))
    return code


# ---------------------------------------------------------------- Python


def python_imports(root: Node, source: bytes) -> dict[str, str]:
    """Local name -> what it refers to, from every import in the file."""
    names: dict[str, str] = {}
    for node in _walk(root, frozenset()):
        if node.type == "import_statement":
            for child in node.named_children:
                if child.type == "dotted_name":
                    first = _text(source, child).split(".")[0]
                    names[first] = first
                elif child.type == "aliased_import":
                    name, alias = child.child_by_field_name("name"), \
                        child.child_by_field_name("alias")
                    if name is not None and alias is not None:
                        names[_text(source, alias)] = _text(source, name)
        elif node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            if module is None or module.type != "dotted_name":
                continue  # relative imports name the project's own code
            prefix = _text(source, module)
            for child in node.children_by_field_name("name"):
                if child.type == "dotted_name":
                    names[_text(source, child)] = f"{prefix}.{_text(source, child)}"
                elif child.type == "aliased_import":
                    name, alias = child.child_by_field_name("name"), \
                        child.child_by_field_name("alias")
                    if name is not None and alias is not None:
                        names[_text(source, alias)] = f"{prefix}.{_text(source, name)}"
    return names


def qualified_name(func: Node, source: bytes, imports: dict[str, str]) -> str | None:
    """``sh`` -> ``subprocess.run`` for `from subprocess import run as sh`."""
    text = _text(source, func)
    parts = text.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    head = imports.get(parts[0], parts[0])
    return ".".join([head, *parts[1:]])


def _needs_parens(call: Node) -> bool:
    """`f(x).y`, `f(x)[0]` and `f(x)(y)` need `(await f(x)).y`."""
    parent = call.parent
    if parent is None:
        return False
    if parent.type == "attribute":
        return parent.child_by_field_name("object") == call
    if parent.type == "subscript":
        return parent.child_by_field_name("value") == call
    if parent.type == "call":
        return parent.child_by_field_name("function") == call
    return False


def _await_blocked_by(call: Node, scope: Node, source: bytes, edits: _Edits) -> str | None:
    """Why `await` cannot go where `call` stands, or None. A generator expression that
    an eager consumer reads at once is turned into a list comprehension on the way."""
    node = call.parent
    while node is not None and node != scope:
        if node.type == "lambda":
            return "it is inside a lambda"
        if node.type in ("function_definition", "class_definition"):
            return "it is inside a nested function"
        if node.type == "generator_expression":
            if not _listify(node, source, edits):
                return "it is inside a generator expression"
        node = node.parent
    return None


def _listify(genexp: Node, source: bytes, edits: _Edits) -> bool:
    """`sum(f(x) for x in xs)` -> `sum([f(x) for x in xs])` where that is exact."""
    parent = genexp.parent
    call = parent if parent is not None and parent.type == "call" else (
        parent.parent if parent is not None and parent.type == "argument_list" else None)
    if call is None or call.type != "call":
        return False
    func = call.child_by_field_name("function")
    name = _text(source, func).split(".")[-1] if func is not None else ""
    if name not in _EAGER_CONSUMERS:
        return False
    if genexp.start_byte in edits.listified:
        return True  # already, for another call inside it
    edits.listified.add(genexp.start_byte)
    if call.child_by_field_name("arguments") == genexp:  # sum(x for x in y): shared parens
        edits.add(genexp.start_byte + 1, genexp.start_byte + 1, "[", rank=0)
        edits.add(genexp.end_byte - 1, genexp.end_byte - 1, "]", rank=2)
    else:
        edits.add(genexp.start_byte, genexp.start_byte + 1, "[", rank=0)
        edits.add(genexp.end_byte - 1, genexp.end_byte, "]", rank=2)
    edits.done.append("a generator expression that now awaits became a list comprehension")
    return True


def _await(call: Node, edits: _Edits) -> None:
    if _needs_parens(call):
        edits.add(call.start_byte, call.start_byte, "(await ")
        edits.add(call.end_byte, call.end_byte, ")")
    else:
        edits.add(call.start_byte, call.start_byte, "await ")


def _to_thread(call: Node, func: Node, edits: _Edits) -> None:
    """`f(a, b=1)` -> `await asyncio.to_thread(f, a, b=1)`, nested edits untouched."""
    args = call.child_by_field_name("arguments")
    parens = _needs_parens(call)
    edits.add(func.start_byte, func.start_byte,
              "(await asyncio.to_thread(" if parens else "await asyncio.to_thread(")
    if args is None:
        return
    if args.type == "generator_expression":  # f(x for x in y): keep the genexp whole
        edits.add(args.start_byte, args.start_byte, ", ")
        edits.add(args.end_byte, args.end_byte, ")")
    elif args.named_child_count == 0:  # f() -> asyncio.to_thread(f)
        edits.add(args.start_byte, args.start_byte + 1, "")
    else:
        edits.add(args.start_byte, args.start_byte + 1, ", ")
    if parens:
        edits.add(call.end_byte, call.end_byte, ")")


def _python_edits(source: Source, span: Span, function: Node) -> _Edits:
    text = source.text
    assert source.doc is not None
    imports = python_imports(source.doc.tree.root_node, text)
    edits = _Edits()
    name = span.target.name
    body = function.child_by_field_name("body")
    if body is None:
        return edits
    for call in [n for n in _walk(body, frozenset()) if n.type == "call"]:
        func = call.child_by_field_name("function")
        if func is None or (call.parent is not None and call.parent.type == "await"):
            continue
        qualified = qualified_name(func, text, imports)
        is_self = qualified is not None and (qualified == name or (
            qualified.split(".")[0] in ("self", "cls") and qualified.split(".")[-1] == name
            and qualified.count(".") == 1))
        if qualified not in TO_THREAD and qualified != SLEEP and qualified != "asyncio.run" \
                and not is_self:
            continue
        line = text.count(b"\n", 0, call.start_byte) + 1
        reason = _await_blocked_by(call, function, text, edits)
        if reason is not None:
            what = _text(text, func)
            edits.left.append(f"line {line}: `{what}(...)` was left as it is, because {reason} "
                              "(a place that cannot await)")
            continue
        if qualified == SLEEP:
            _await(call, edits)
            edits.add(func.start_byte, func.end_byte, "asyncio.sleep")
            edits.done.append("time.sleep -> await asyncio.sleep")
        elif qualified == "asyncio.run":
            args = call.child_by_field_name("arguments")
            inner = args.named_children[0] if args is not None and \
                args.named_child_count == 1 else None
            if inner is None:
                continue
            prefix = "(await " if _needs_parens(call) else "await "
            edits.add(call.start_byte, inner.start_byte, prefix)
            edits.add(inner.end_byte, call.end_byte, ")" if prefix.startswith("(") else "")
            edits.done.append("asyncio.run(coro) -> await coro")
        elif is_self:
            _await(call, edits)
            edits.done.append("the recursive call is awaited")
        else:
            _to_thread(call, func, edits)
            edits.done.append(f"{_text(text, func)} runs in a thread "
                              "(await asyncio.to_thread)")
    return edits


def await_call_site(source: Source, start_byte: int, end_byte: int
                    ) -> list[tuple[int, int, str]] | str:
    """The edits that await the call at [start_byte, end_byte) in its (async) caller,
    or why it cannot be awaited there. Python and JavaScript/TypeScript."""
    assert source.doc is not None and source.spec is not None
    node = source.doc.tree.root_node.descendant_for_byte_range(start_byte, end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (start_byte, end_byte):
        node = node.parent
    if node is None:
        return "its place in the file was not found"
    edits = _Edits()
    if source.spec.name == "python":
        scope = node.parent
        while scope is not None and scope.type != "function_definition":
            scope = scope.parent
        reason = _await_blocked_by(node, scope, source.text, edits) if scope else None
        if reason is not None:
            return reason
        _await(node, edits)
    else:
        parent = node.parent
        if parent is not None and (
                (parent.type in ("member_expression", "subscript_expression")
                 and parent.child_by_field_name("object") == node)
                or (parent.type == "call_expression"
                    and parent.child_by_field_name("function") == node)):
            edits.add(node.start_byte, node.start_byte, "(await ")
            edits.add(node.end_byte, node.end_byte, ")")
        else:
            edits.add(node.start_byte, node.start_byte, "await ")
    return list(reversed(edits.ordered()))  # left to right, as LSP orders inserts


# ---------------------------------------------------------------- JavaScript / TypeScript


def _js_function(source: Source, span: Span) -> Node | None:
    node = _function_node(source, span, tuple(_JS_SCOPES | {"lexical_declaration",
                                                            "variable_declaration",
                                                            "field_definition",
                                                            "public_field_definition"}))
    if node is None:
        return None
    if node.type in ("lexical_declaration", "variable_declaration", "field_definition",
                     "public_field_definition"):
        for child in _walk(node, frozenset()):
            if child.is_named and child.type in ("arrow_function", "function_expression",
                                                 "function"):
                return child
        return None
    return node


def _has_promise_chain(text: bytes, function: Node) -> bool:
    for node in _walk(function, frozenset()):
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            if prop is not None and _text(text, prop) in _JS_CHAINS:
                return True
        if node.type == "new_expression" and b"Promise" in text[node.start_byte:node.end_byte]:
            return True
    return False


def _js_edits(source: Source, span: Span, function: Node) -> _Edits:
    text = source.text
    edits = _Edits()
    name = span.target.name
    body = function.child_by_field_name("body")
    if body is None or not name:
        return edits
    for call in [n for n in _walk(body, frozenset()) if n.type == "call_expression"]:
        func = call.child_by_field_name("function")
        if func is None:
            continue
        callee = _text(text, func)
        if callee not in (name, f"this.{name}"):
            continue
        parent = call.parent
        if parent is not None and parent.type == "await_expression":
            continue
        line = text.count(b"\n", 0, call.start_byte) + 1
        scope = call.parent
        while scope is not None and scope != function and scope.type not in _JS_SCOPES:
            scope = scope.parent
        if scope is not None and scope != function:
            edits.left.append(f"line {line}: the recursive call inside a nested function was "
                              "left as it is (it cannot await there)")
            continue
        needs = parent is not None and (
            (parent.type in ("member_expression", "subscript_expression")
             and parent.child_by_field_name("object") == call)
            or (parent.type == "call_expression" and parent.child_by_field_name("function")
                == call))
        if needs:
            edits.add(call.start_byte, call.start_byte, "(await ")
            edits.add(call.end_byte, call.end_byte, ")")
        else:
            edits.add(call.start_byte, call.start_byte, "await ")
        edits.done.append("the recursive call is awaited")
    return edits
