"""What a prompt needs around a target, and where a function is called.

The context of a target: the file's imports, the enclosing class's header and the
first lines of same-file functions it calls. Call sites: calls of a function by name,
with the function they sit in (whether `await` may be added there).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .definitions import (
    CLASSES,
    FIELD_DEFS,
    FUNCTION_VALUES,
    FUNCTIONS,
    IDENTIFIERS,
    JS_FAMILY,
    VAR_DECLS,
    Definition,
    as_definition,
    function_node,
    name_node,
    node_text,
    nodes_of,
)
from .document import SyntaxDocument
from .targets import Target, definitions_at

_ANONYMOUS_FUNCTIONS = FUNCTION_VALUES | frozenset({"lambda"})
_CALLS: dict[str, tuple[str, ...]] = {
    "python": ("call",), "javascript": ("call_expression",), "typescript": ("call_expression",),
    "tsx": ("call_expression",), "go": ("call_expression",), "rust": ("call_expression",),
    "java": ("method_invocation",), "c": ("call_expression",), "cpp": ("call_expression",),
    "csharp": ("invocation_expression",), "ruby": ("call",),
    "php": ("function_call_expression", "member_call_expression", "scoped_call_expression",
            "nullsafe_member_call_expression"),
    "bash": ("command",),
}
_IMPORTS: dict[str, frozenset[str]] = {
    "python": frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
    "javascript": frozenset({"import_statement"}), "typescript": frozenset({"import_statement"}),
    "tsx": frozenset({"import_statement"}),
    "go": frozenset({"package_clause", "import_declaration"}),
    "rust": frozenset({"use_declaration", "extern_crate_declaration"}),
    "java": frozenset({"package_declaration", "import_declaration"}),
    "c": frozenset({"preproc_include"}),
    "cpp": frozenset({"preproc_include", "using_declaration"}),
    "csharp": frozenset({"using_directive"}),
    "php": frozenset({"namespace_use_declaration"}),
    "ruby": frozenset(),
    "bash": frozenset(),
}
_NAMESPACES = frozenset({"namespace_declaration", "file_scoped_namespace_declaration",
                         "namespace_definition"})
_SELF_NAMES = frozenset({"self", "this", "cls", "$this"})
_MAX_SIGNATURES = 8


@dataclass(frozen=True)
class Context:
    imports: str  # the file's import/include/use lines
    class_header: str | None  # "class Foo(Base):" / "class Foo extends Bar {"
    called_signatures: tuple[str, ...]  # first lines of same-file functions the span calls


@dataclass(frozen=True)
class CallSite:
    start_byte: int
    end_byte: int
    caller_name: str | None
    caller_is_async: bool
    already_awaited: bool


# ---------------------------------------------------------------- context

def _is_import(node: Node, doc: SyntaxDocument) -> bool:
    lang = doc.spec.name
    if node.type in _IMPORTS[lang]:
        return True
    if lang in JS_FAMILY and node.type in VAR_DECLS | {"expression_statement"}:
        calls = [c for d in node.named_children for c in (d, d.child_by_field_name("value"))
                 if c is not None and c.type == "call_expression"]
        return any(node_text(doc, c.child_by_field_name("function")) == "require" for c in calls)
    if lang == "ruby" and node.type == "call" and node.child_by_field_name("receiver") is None:
        method = node_text(doc, node.child_by_field_name("method"))
        return method in ("require", "require_relative", "load")
    return False


def _imports(doc: SyntaxDocument) -> str:
    lines: list[str] = []
    for node in doc.tree.root_node.named_children:
        if node.type in _NAMESPACES:
            body = node.child_by_field_name("body")
            children = (body if body is not None else node).named_children
        else:
            children = [node]
        lines += [node_text(doc, c).rstrip() for c in children if _is_import(c, doc)]
    return "\n".join(lines)


def _header(d: Definition, doc: SyntaxDocument) -> str:
    node = d.node
    body = node.child_by_field_name("body")
    if doc.spec.name == "python":
        colon = next((c for c in node.children if c.type == ":"), None)
        if colon is not None:
            return doc.text(node.start_byte, colon.end_byte)
    if body is not None and doc.source[body.start_byte:body.start_byte + 1] == b"{":
        return doc.text(node.start_byte, body.start_byte + 1)
    line_end = doc.source.find(b"\n", node.start_byte)
    return doc.text(node.start_byte, node.end_byte if line_end < 0 else line_end).rstrip()


def _go_receiver_type(d: Definition, doc: SyntaxDocument) -> Definition | None:
    receiver = d.node.child_by_field_name("receiver")
    if receiver is None:
        return None
    type_name = node_text(doc, receiver).strip("()").split()[-1].lstrip("*").split("[")[0]
    for node in doc.tree.root_node.named_children:
        if node.type == "type_declaration":
            candidate = Definition(node, node)
            if node_text(doc, name_node(candidate)) == type_name:
                return candidate
    return None


def _class_header(doc: SyntaxDocument, target: Target) -> str | None:
    lang = doc.spec.name
    defs = [d for d in definitions_at(doc, target.start_byte, target.end_byte)
            if d.node.start_byte != target.def_start_byte or target.kind == "selection"]
    if not defs and lang == "go" and target.kind == "method":
        own = definitions_at(doc, target.def_start_byte, target.def_start_byte)
        receiver = _go_receiver_type(own[-1], doc) if own else None
        return _header(receiver, doc) if receiver is not None else None
    classes = [d for d in defs if d.node.type in CLASSES[lang]]
    return _header(classes[-1], doc) if classes else None


def _signature(d: Definition, doc: SyntaxDocument) -> str:
    body = function_node(d).child_by_field_name("body")
    if body is not None and body.start_byte > d.node.start_byte:
        return doc.text(d.node.start_byte, body.start_byte).rstrip()
    line_end = doc.source.find(b"\n", d.node.start_byte)
    return doc.text(d.node.start_byte, d.node.end_byte if line_end < 0 else line_end).rstrip()


def _callee(call: Node) -> tuple[Node | None, Node | None]:
    """(receiver, name) of a call: (None, f) for f(x), (self, m) for self.m(x)."""
    if call.type == "command":
        return None, call.child_by_field_name("name")
    function = call.child_by_field_name("function")
    if function is None:  # Ruby call, Java method_invocation, PHP member calls
        method = call.child_by_field_name("method") or call.child_by_field_name("name")
        receiver = (call.child_by_field_name("receiver") or call.child_by_field_name("object")
                    or call.child_by_field_name("scope"))
        return receiver, method
    if function.type in IDENTIFIERS or function.type == "name":
        return None, function
    for receiver_field, name_field in (("object", "attribute"), ("object", "property"),
                                       ("operand", "field"), ("value", "field"),
                                       ("argument", "field"), ("expression", "name"),
                                       ("path", "name"), ("scope", "name")):
        name = function.child_by_field_name(name_field)
        if name is not None:
            return function.child_by_field_name(receiver_field), name
    return None, None


def _function_defs(doc: SyntaxDocument) -> dict[str, Definition]:
    lang = doc.spec.name
    extra = VAR_DECLS | FIELD_DEFS if lang in JS_FAMILY else set()
    types = tuple(sorted(FUNCTIONS[lang] | extra))
    by_name: dict[str, Definition] = {}
    for node in nodes_of(doc, types):
        d = as_definition(node, lang)
        name = name_node(d) if d is not None else None
        if d is not None and name is not None:
            by_name.setdefault(node_text(doc, name), d)
    return by_name


def _called_signatures(doc: SyntaxDocument, target: Target) -> tuple[str, ...]:
    functions = _function_defs(doc)
    signatures: list[str] = []
    for call in nodes_of(doc, _CALLS[doc.spec.name], target.start_byte, target.end_byte):
        if call.start_byte < target.start_byte or call.end_byte > target.end_byte:
            continue
        _, name = _callee(call)
        d = functions.get(node_text(doc, name)) if name is not None else None
        if d is None or d.node.start_byte == target.def_start_byte:
            continue
        signature = _signature(d, doc)
        if signature not in signatures:
            signatures.append(signature)
            if len(signatures) == _MAX_SIGNATURES:
                break
    return tuple(signatures)


def context_for(doc: SyntaxDocument, target: Target) -> Context:
    """What a prompt needs besides the target's own text: the imports, the enclosing
    class's header (Go methods: the receiver type's), and the first lines of same-file
    functions the target calls (in order of first call, at most 8)."""
    return Context(
        imports=_imports(doc),
        class_header=_class_header(doc, target),
        called_signatures=_called_signatures(doc, target),
    )


# ---------------------------------------------------------------- call sites

def _scope(node: Node, doc: SyntaxDocument) -> tuple[str | None, bool] | None:
    """(name, is_async) if `node` is a function scope (named or anonymous), else None."""
    lang = doc.spec.name
    if node.type not in FUNCTIONS[lang] and node.type not in _ANONYMOUS_FUNCTIONS:
        return None
    is_async = doc.spec.supports_async and any(c.type == "async" for c in node.children)
    name = node.child_by_field_name("name")
    parent = node.parent
    if node.type in FUNCTIONS[lang]:
        name = name_node(Definition(node, node))
    elif parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
    elif parent is not None and parent.type in FIELD_DEFS:
        name = parent.child_by_field_name("property") or parent.child_by_field_name("name")
    elif parent is not None and parent.type == "assignment":  # Python: f = lambda: ...
        name = parent.child_by_field_name("left")
    return (node_text(doc, name) if name is not None else None), is_async


def _caller(call: Node, doc: SyntaxDocument) -> tuple[str | None, bool]:
    node = call.parent
    while node is not None:
        scope = _scope(node, doc)
        if scope is not None:
            return scope
        node = node.parent
    return None, False


def _awaited(call: Node) -> bool:
    parent = call.parent
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    return parent is not None and parent.type in ("await", "await_expression")


def call_sites(doc: SyntaxDocument, name: str, exclude: tuple[int, int] | None) -> list[CallSite]:
    """Calls of `name` as `name(...)` or `self.name(...)` / `this.name(...)` /
    `cls.name(...)`, except those starting inside `exclude`, in document order.

    The caller is the innermost enclosing function, anonymous ones included (a lambda,
    an arrow function): it decides whether `await` may be added. Its name is the
    definition's (for `const f = () => ...`, the variable's); None for an anonymous
    function and at module level.
    """
    sites: list[CallSite] = []
    for call in nodes_of(doc, _CALLS[doc.spec.name]):
        if exclude is not None and exclude[0] <= call.start_byte < exclude[1]:
            continue
        receiver, callee = _callee(call)
        if callee is None or node_text(doc, callee) != name:
            continue
        if receiver is not None and node_text(doc, receiver) not in _SELF_NAMES:
            continue
        caller_name, caller_is_async = _caller(call, doc)
        sites.append(CallSite(call.start_byte, call.end_byte, caller_name, caller_is_async,
                              _awaited(call)))
    return sites
