import assert from "node:assert/strict";
import { test } from "node:test";
import { manifest } from "./manifest";
import {
  ACTIONS, ASYNC_LANGUAGES, commandArgument, definitionName, isCancellation, LANGUAGES, nameFromProgressTitle,
} from "../src/core/protocol";

const pkg = manifest;

test("the argument is the interface's object: uri, version, range (a backwards selection is ordered)", () => {
  const arg = commandArgument("file:///w/a.py", 7, {
    start: { line: 9, character: 4 }, end: { line: 3, character: 0 } });
  assert.deepEqual(arg, {
    textDocument: { uri: "file:///w/a.py", version: 7 },
    range: { start: { line: 3, character: 0 }, end: { line: 9, character: 4 } },
  });
  const empty = commandArgument("file:///w/a.py", 1, {
    start: { line: 2, character: 5 }, end: { line: 2, character: 5 } });
  assert.deepEqual(empty.range.start, empty.range.end);
});

test("the commands and their titles are those of the interface, and are contributed", () => {
  const contributed = new Map((pkg.contributes.commands as { command: string; title: string }[]).map((c) => [c.command, c.title]));
  for (const spec of Object.values(ACTIONS)) {
    assert.equal(contributed.get(spec.command), spec.title);
  }
  assert.deepEqual(Object.values(ACTIONS).map((a) => a.command),
    ["qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync"]);
});

test("activation and menus cover the parsed languages; async only where it exists", () => {
  assert.deepEqual(pkg.activationEvents, LANGUAGES.map((l) => `onLanguage:${l}`));
  const context: { command: string; when?: string }[] = pkg.contributes.menus["editor/context"];
  const whenOf = (command: string) => context.find((m) => m.command === command)?.when ?? "";
  const matches = (when: string, language: string) => {
    const match = /editorLangId =~ \/(.*?)\//.exec(when);
    assert.ok(match, when);
    return new RegExp(match[1]).test(language);
  };
  for (const language of LANGUAGES) {
    assert.ok(matches(whenOf("qwenLsp.explain"), language), language);
    assert.equal(matches(whenOf("qwenLsp.convertToAsync"), language),
      (ASYNC_LANGUAGES as readonly string[]).includes(language), language);
  }
  assert.equal(matches(whenOf("qwenLsp.explain"), "markdown"), false);
});

test("the target's name comes from the progress title or the definition line", () => {
  assert.equal(nameFromProgressTitle("Qwen: Explaining `shout`"), "shout");
  assert.equal(nameFromProgressTitle("Qwen: Explaining the selection"), undefined);
  assert.equal(definitionName("async def fetch_price(sku, delay=0.01):"), "fetch_price");
  assert.equal(definitionName("    def total(self):"), "total");
  assert.equal(definitionName("export async function load(url) {"), "load");
  assert.equal(definitionName("func (s *Server) Serve(addr string) error {"), "Serve");
  assert.equal(definitionName("pub fn parse(input: &str) -> Result<Ast> {"), "parse");
  assert.equal(definitionName("class Basket:"), "Basket");
  assert.equal(definitionName("const add = (a, b) => a + b;"), "add");
  assert.equal(definitionName("    return total"), undefined);
});

test("cancellation is recognised by its LSP error codes only", () => {
  assert.equal(isCancellation({ code: -32800, message: "cancelled" }), true);
  assert.equal(isCancellation({ code: -32802 }), true);
  assert.equal(isCancellation({ code: -32603, message: "model missing" }), false);
  assert.equal(isCancellation(new Error("x")), false);
});
