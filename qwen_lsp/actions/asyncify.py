"""Convert a Python function to async by exact rules, when rules are enough.

When every blocking call in the function has an exact asyncio counterpart
(``time.sleep`` -> ``await asyncio.sleep``), the conversion is done here: it is
exact, instant, and cannot invent code. A function with other blocking work
(HTTP, subprocesses, sockets, ...) goes to the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from qwen_lsp.actions.span import Source, Span

# Calls that block and have no one-to-one asyncio replacement: these need the model.
_NEEDS_MODEL = re.compile(
    r"^(requests|httpx|urllib\.request|urllib3|subprocess|socket|http\.client|ftplib|"
    r"smtplib|sqlite3|psycopg2?|pymysql|paramiko)\.|^(urlopen|check_output|check_call|Popen)$"
)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _imports_sleep_from_time(text: bytes) -> bool:
    return re.search(rb"^\s*from\s+time\s+import\s+[^\n]*\bsleep\b", text, re.M) is not None


def rule_based_async(source: Source, span: Span) -> str | None:
    """The converted function (dedented, like ``span.code``), or None if the model is needed."""
    if source.doc is None or source.spec is None or source.spec.name != "python":
        return None
    target = span.target
    root = source.doc.tree.root_node.descendant_for_byte_range(target.def_start_byte,
                                                              target.def_start_byte)
    node = root
    while node is not None and node.type != "function_definition":
        node = node.parent
    if node is None or node.start_byte != target.def_start_byte:
        return None
    text = source.doc.source
    replacements: list[tuple[int, int, str]] = []
    sleep_alias = _imports_sleep_from_time(text)
    for call in _walk(node):
        if call.type != "call":
            continue
        func = call.child_by_field_name("function")
        if func is None:
            continue
        name = text[func.start_byte:func.end_byte].decode("utf-8", errors="replace")
        if _NEEDS_MODEL.search(name):
            return None
        if name == "time.sleep" or (name == "sleep" and sleep_alias):
            parent = call.parent
            awaited = parent is not None and parent.type == "await"
            new = "asyncio.sleep" if awaited else "await asyncio.sleep"
            replacements.append((func.start_byte, func.end_byte, new))
        elif name == target.name and not (call.parent and call.parent.type == "await"):
            replacements.append((call.start_byte, call.start_byte, "await "))
    if not any("asyncio.sleep" in r[2] for r in replacements):
        return None  # nothing blocking was found: the model may know better
    replacements.append((target.def_start_byte, target.def_start_byte, "async "))
    out = text[span.start_byte:span.end_byte]
    for start, end, new in sorted(replacements, reverse=True):
        out = out[: start - span.start_byte] + new.encode() + out[end - span.start_byte:]
    code = out.decode("utf-8")
    if span.indent:
        code = "\n".join(line[len(span.indent):] if line.startswith(span.indent) else line
                         for line in code.split("\n"))
    return code
