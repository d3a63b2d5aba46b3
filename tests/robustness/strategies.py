"""Hypothesis strategies for bad LSP input: JSON of every type, odd ids, odd URIs,
and well-formed messages of the methods we handle with one part mutated."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

COMMANDS = ("qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync", "qwenLsp.status")

lone_surrogates = st.characters(codec=None, categories=["Cs"])
# text with lone surrogates, astral characters, line breaks of every kind, NULs
odd_text = st.lists(
    st.one_of(st.text(max_size=6), lone_surrogates, st.sampled_from(
        ["\r\n", "\r", "\n", "\0", "😀", "é", "\u2028", "\ufeff", "def f():\n  pass\n"])),
    max_size=8).map("".join)

huge_ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, 2**31 - 1, -(2**31), 2**53 + 1, 2**63, 2**64, -(2**63) - 1,
                     10**30]),
)
numbers = st.one_of(st.integers(-5, 5), huge_ints,
                    st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def uris(opened: list[str]) -> st.SearchStrategy[str]:
    """An opened document (most of the time), or one that is not open, or nonsense."""
    return st.one_of(
        st.sampled_from(opened),
        st.sampled_from(opened),
        st.sampled_from([
            "file:///not/open.py", "file:///etc/passwd", "file:///../../etc/shadow", "",
            "not a uri", "untitled:Untitled-1", "file://server/share/x.py", "file:///a%00b.py",
            "file:///tmp/%F0%9F%98%80.py", "http://example.com/x.py", "file:", "file:///",
        ]),
        odd_text.map(lambda s: "file:///" + s),
    )


def positions() -> st.SearchStrategy[dict]:
    small = st.integers(min_value=0, max_value=40)
    weird = st.one_of(st.integers(-3, -1), huge_ints, small)
    return st.fixed_dictionaries({"line": st.one_of(small, small, weird),
                                  "character": st.one_of(small, small, weird)})


def ranges() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"start": positions(), "end": positions()})


def _doc_id(uri: str, version: Any = 1) -> dict:
    return {"uri": uri, "version": version}


def templates(opened: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    """(method, params) of every message we handle, well-formed in shape."""
    versions = st.one_of(st.integers(0, 50), st.none(), huge_ints)
    argument = st.builds(lambda uri, v, r: {"textDocument": _doc_id(uri, v), "range": r},
                         uris(opened), versions, ranges())
    change = st.one_of(
        st.builds(lambda r, t: {"range": r, "text": t}, ranges(), odd_text),
        st.builds(lambda t: {"text": t}, odd_text),
    )
    return st.one_of(
        st.tuples(st.just("initialize"), st.builds(
            lambda opts: {"processId": None, "rootUri": None, "capabilities": {},
                          "initializationOptions": opts}, json_values)),
        st.tuples(st.just("textDocument/didOpen"), st.builds(
            lambda uri, lang, v, text: {"textDocument": {
                "uri": uri, "languageId": lang, "version": v, "text": text}},
            uris(opened), st.sampled_from(["python", "javascript", "typescript", "go", "text",
                                           "", "python\0"]), st.integers(0, 9), odd_text)),
        st.tuples(st.just("textDocument/didChange"), st.builds(
            lambda uri, v, changes: {"textDocument": _doc_id(uri, v),
                                     "contentChanges": changes},
            uris(opened), st.integers(0, 1000), st.lists(change, max_size=3))),
        st.tuples(st.just("textDocument/didClose"), st.builds(
            lambda uri: {"textDocument": {"uri": uri}}, uris(opened))),
        st.tuples(st.just("textDocument/codeAction"), st.builds(
            lambda uri, r, kind, only: {"textDocument": {"uri": uri}, "range": r, "context": {
                "diagnostics": [], "triggerKind": kind, **({"only": only} if only else {})}},
            uris(opened), ranges(), st.sampled_from([1, 2]),
            st.one_of(st.none(), st.lists(st.sampled_from(
                ["quickfix", "refactor", "refactor.rewrite", "qwen.explain", "source"]),
                max_size=2))),
        ),
        st.tuples(st.just("workspace/executeCommand"), st.builds(
            lambda command, arg, token: {"command": command, "arguments": [arg],
                                         **({"workDoneToken": token} if token else {})},
            st.sampled_from(COMMANDS), argument,
            st.one_of(st.none(), st.text(min_size=1, max_size=5), st.integers(1, 99)))),
        st.tuples(st.just("workspace/didChangeConfiguration"), st.builds(
            lambda value: {"settings": {"qwenLsp": value}}, json_values)),
        st.tuples(st.just("$/cancelRequest"), st.builds(
            lambda i: {"id": i}, st.one_of(huge_ints, st.text(max_size=5)))),
        st.tuples(st.sampled_from(["no/such/method", "$/unknownNotification",
                                   "textDocument/hover", "workspace/symbol", ""]),
                  json_values),
    )


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (the value itself included)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, params: Any) -> Any:
    """``params`` with one field given a wrong value, dropped, or left alone."""
    params = copy.deepcopy(params)
    how = draw(st.sampled_from(["keep", "keep", "replace", "replace", "replace", "drop"]))
    if how == "keep":
        return params
    paths = _paths(params)
    path = draw(st.sampled_from(paths))
    if not path:
        return draw(json_values)
    parent = params
    for part in path[:-1]:
        parent = parent[part]
    if how == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return params


ID_KINDS = ("int", "huge", "negative", "string", "surrogate", "none", "float", "bool",
            "null", "object")


@st.composite
def messages(draw: st.DrawFn, opened: list[str], serial: list[int]) -> tuple[bytes | dict, Any]:
    """One message (a dict, or raw bytes that are not JSON) and the id it must be
    answered under (None when no answer is owed)."""
    from tests.robustness.wire import frame

    if draw(st.integers(0, 19)) == 0:  # malformed bodies, framed correctly
        body = draw(st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b"{", b"{this is not json", b"[]", b"null", b"42", b'"x"',
                             b'{"jsonrpc": "2.0", "id": 1', b"\xff\xfe\x00{}",
                             b'{"jsonrpc":"2.0","id":7,"method":"initialize","params":'
                             b'{"capabilities":{}}} trailing']),
            odd_text.map(lambda s: s.encode("utf-8", "surrogatepass"))))
        return frame(body), None
    method, params = draw(templates(opened))
    params = draw(mutated(params))
    serial[0] += 1
    n = serial[0]
    kind = draw(st.sampled_from(ID_KINDS))
    msg_id: Any
    owed = True
    if kind == "int":
        msg_id = 1_000_000 + n
    elif kind == "huge":
        msg_id = 2**64 + n
    elif kind == "negative":
        msg_id = -n
    elif kind == "string":
        msg_id = draw(st.text(max_size=6)) + f"#{n}"
    elif kind == "surrogate":
        msg_id = draw(lone_surrogates) + f"#{n}"
    else:
        owed = False
        msg_id = {"none": None, "float": n + 0.5, "bool": True, "null": None,
                  "object": {"n": n}}[kind]
    message: dict = {"jsonrpc": "2.0", "method": method}
    if kind != "none":
        message["id"] = msg_id
    if params is not None or draw(st.booleans()):
        message["params"] = params
    if draw(st.integers(0, 29)) == 0:
        message["jsonrpc"] = draw(st.sampled_from(["1.0", "", 2, None]))
        owed = False
    return message, (msg_id if owed else None)
