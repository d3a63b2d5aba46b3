"""Edit-sequence fuzzing of OpenDocument.change (unit): random incremental didChange
sequences with inserts, deletes, multi-line text, CRLF and lone CR, surrogate pairs,
lone surrogates and ranges past the end. After each change the server's bytes equal
the client's text (client_model.py, written from the specification) and the tree
equals a fresh parse; a range the server computes for an edit lands exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import byte_offset, position_of
from qwen_lsp.syntax.document import SyntaxDocument
from tests.robustness import client_model as client
from tests.robustness.conftest import scaled
from tests.robustness.strategies import lone_surrogates

pieces = st.one_of(
    st.sampled_from(["a", "x = 1", " ", "\t", "(", ")", ":", "é", "ß", "中", "😀", "𝔘",
                     "\n", "\r\n", "\r", "\n\n", "def f(a):\n    return a\n", "    ",
                     '"""', "#", "class K:\n  pass\r\n", "\u2028", "\ufeff"]),
    lone_surrogates,
    st.text(max_size=3),
)
texts = st.lists(pieces, max_size=12).map("".join)
ENCODINGS = ("utf-16", "utf-8", "utf-32")


@st.composite
def positions(draw: st.DrawFn, text: str) -> tuple[int, int]:
    lines = len(client.line_starts(text))
    line = draw(st.one_of(st.integers(0, max(0, lines - 1)), st.integers(0, lines + 3)))
    character = draw(st.one_of(st.integers(0, 12), st.integers(0, 400)))
    return line, character


@st.composite
def changes(draw: st.DrawFn, text: str, encoding: str) -> dict:
    if draw(st.integers(0, 15)) == 0:
        return {"text": draw(texts)}  # a full-document change
    p1, p2 = draw(positions(text)), draw(positions(text))
    i1 = client.index_of(text, *p1, encoding)
    i2 = client.index_of(text, *p2, encoding)
    if i2 < i1:
        p1, p2 = p2, p1
    return {"range": {"start": {"line": p1[0], "character": p1[1]},
                      "end": {"line": p2[0], "character": p2[1]}},
            "text": draw(texts)}


def _as_tuple(change: dict) -> tuple:
    rng = change.get("range")
    if rng is None:
        return (None, change["text"])
    return ((rng["start"]["line"], rng["start"]["character"], rng["end"]["line"],
             rng["end"]["character"]), change["text"])


def _tree(doc: SyntaxDocument) -> tuple:
    root = doc.tree.root_node
    return str(root), root.start_byte, root.end_byte, root.has_error


@pytest.mark.parametrize("language,path", [("python", "/t.py"), ("javascript", "/t.js")])
@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=scaled(50), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), initial=texts)
def test_random_change_sequences_keep_text_and_tree_exact(language, path, encoding, data,
                                                         initial):
    # strings as JSON delivers them (a surrogate pair in one string is one character)
    initial = client.over_json(initial)
    doc = OpenDocument.open("file://" + path, path, language, 1, initial, 5_000_000)
    text = initial
    assert doc.text == client.wire_bytes(text)
    for version in range(2, 2 + data.draw(st.integers(1, 12))):
        batch = data.draw(st.lists(changes(text, encoding), min_size=1, max_size=3))
        batch = [dict(c, text=client.over_json(c["text"])) for c in batch]
        expected = text
        for change in batch:  # changes of one notification apply in order
            # the client's string is UTF-16: a high and a low surrogate brought together
            # by an edit are one character
            expected = client.over_json(client.apply_change(expected, change, encoding))
        doc.change(version, [_as_tuple(c) for c in batch], encoding)
        text = expected
        assert doc.text == client.wire_bytes(text), (batch, text)
        if doc.syntax is not None:
            fresh = SyntaxDocument(doc.spec, doc.text)
            assert _tree(doc.syntax) == _tree(fresh), batch
        assert doc.version == version


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=scaled(300), deadline=None, database=None)
@given(data=st.data(), text=texts)
def test_a_range_the_server_computes_lands_exactly_in_the_client(encoding, data, text):
    """The server turns byte offsets into LSP positions for every edit it sends."""
    source = client.wire_bytes(text)
    a, b = sorted(data.draw(st.integers(0, len(text)), label="a") for _ in range(2))
    start = len(client.wire_bytes(text[:a]))
    end = len(client.wire_bytes(text[:b]))
    new = data.draw(texts, label="new")
    (l0, c0), (l1, c1) = position_of(source, start, encoding), position_of(source, end, encoding)
    edit = {"range": {"start": {"line": l0, "character": c0},
                      "end": {"line": l1, "character": c1}}, "newText": new}
    got = client.apply_text_edits(text, [edit], encoding)
    # a position between "\r" and "\n" does not exist in LSP: it means the line's end
    if 0 < a < len(text) and text[a - 1:a + 1] == "\r\n" or \
            0 < b < len(text) and text[b - 1:b + 1] == "\r\n":
        return
    assert got == text[:a] + new + text[b:]
    assert (l0, c0) == client.position_at(text, a, encoding)
    assert byte_offset(source, l0, c0, encoding) == start
