import assert from "node:assert/strict";
import { test } from "node:test";
import { applyTextEdits, lineStarts } from "../src/core/textEdits";
import { annotationLabel, documentEdits, needsConfirmation, withoutAnnotations, type LspWorkspaceEdit } from "../src/core/workspaceEdit";

const r = (l0: number, c0: number, l1: number, c1: number) =>
  ({ start: { line: l0, character: c0 }, end: { line: l1, character: c1 } });

test("edits apply in any order, as one change, in UTF-16 columns", () => {
  const text = "import time\n\ndef f(x):\n    print('☕😀'); time.sleep(x)\n";
  const col = "    print('☕😀'); ".length; // 😀 is two UTF-16 units
  const out = applyTextEdits(text, [
    { range: r(3, col, 3, col + "time.sleep".length), newText: "await asyncio.sleep" },
    { range: r(2, 0, 2, 0), newText: "async " },
    { range: r(0, 0, 0, 0), newText: "import asyncio\n" },
  ]);
  assert.equal(out, "import asyncio\nimport time\n\nasync def f(x):\n    print('☕😀'); await asyncio.sleep(x)\n");
});

test("CRLF lines and positions past the end are clamped as VS Code does", () => {
  assert.deepEqual(lineStarts("a\r\nb\nc"), [0, 3, 5]);
  assert.equal(applyTextEdits("ab\r\ncd", [{ range: r(0, 99, 0, 99), newText: "!" }]), "ab!\r\ncd");
  assert.equal(applyTextEdits("ab", [{ range: r(5, 0, 5, 0), newText: "\nz" }]), "ab\nz");
});

test("overlapping edits are refused", () => {
  assert.throws(() => applyTextEdits("abcdef", [
    { range: r(0, 0, 0, 3), newText: "x" }, { range: r(0, 2, 0, 4), newText: "y" }]), /overlap/);
});

const annotated: LspWorkspaceEdit = {
  documentChanges: [{
    textDocument: { uri: "file:///w/a.py", version: 4 },
    edits: [{ range: r(1, 0, 1, 0), newText: "async ", annotationId: "qwen-lsp.ai-edit" }],
  }],
  changeAnnotations: { "qwen-lsp.ai-edit": { label: "AI async of `f`", needsConfirmation: true } },
};

test("an annotated AI edit needs confirmation; the same edit without annotations does not", () => {
  assert.equal(needsConfirmation(annotated), true);
  assert.equal(annotationLabel(annotated), "AI async of `f`");
  const plain = withoutAnnotations(annotated);
  assert.equal(needsConfirmation(plain), false);
  assert.deepEqual(plain, { documentChanges: [{ textDocument: { uri: "file:///w/a.py", version: 4 },
    edits: [{ range: r(1, 0, 1, 0), newText: "async " }] }] });
  assert.equal(needsConfirmation({ changes: { "file:///a": [{ range: r(0, 0, 0, 0), newText: "x" }] } }), false);
});

test("document edits keep the version the server edited; file operations are not previewed", () => {
  assert.deepEqual(documentEdits(annotated), [{ uri: "file:///w/a.py", version: 4,
    edits: [{ range: r(1, 0, 1, 0), newText: "async " }] }]);
  assert.deepEqual(documentEdits({ changes: { "file:///b": [{ range: r(0, 0, 0, 1), newText: "" }] } }),
    [{ uri: "file:///b", version: null, edits: [{ range: r(0, 0, 0, 1), newText: "" }] }]);
  assert.equal(documentEdits({ documentChanges: [{ kind: "create" }] }), undefined);
});
