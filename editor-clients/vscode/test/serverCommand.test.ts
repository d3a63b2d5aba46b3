import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { INSTALL_INSTRUCTIONS, isExecutableFile, resolveServerCommand } from "../src/core/serverCommand";

const exe = (files: string[]) => (file: string) => files.includes(file);

test("an empty serverPath means qwen-lsp on PATH", () => {
  const r = resolveServerCommand("", undefined, "/a:/b", exe(["/b/qwen-lsp", "/a/python3"]));
  assert.deepEqual(r, { ok: true, server: { command: "/b/qwen-lsp", args: [], display: "/b/qwen-lsp" } });
});

test("without qwen-lsp on PATH, python3 -m qwen_lsp", () => {
  const r = resolveServerCommand("", undefined, "/a:/b", exe(["/b/python3"]));
  assert.ok(r.ok);
  assert.deepEqual(r.server.args, ["-m", "qwen_lsp"]);
  assert.equal(r.server.command, "/b/python3");
});

test("serverPath: absolute, relative to the workspace, ${workspaceFolder}, and a bad one", () => {
  const files = ["/venv/bin/qwen-lsp", "/ws/.venv/bin/qwen-lsp"];
  assert.deepEqual(resolveServerCommand("/venv/bin/qwen-lsp", "/ws", "", exe(files)),
    { ok: true, server: { command: "/venv/bin/qwen-lsp", args: [], display: "/venv/bin/qwen-lsp" } });
  const relative = resolveServerCommand(".venv/bin/qwen-lsp", "/ws", "", exe(files));
  assert.ok(relative.ok && relative.server.command === "/ws/.venv/bin/qwen-lsp");
  const variable = resolveServerCommand("${workspaceFolder}/.venv/bin/qwen-lsp", "/ws", "", exe(files));
  assert.ok(variable.ok && variable.server.command === "/ws/.venv/bin/qwen-lsp");
  const bad = resolveServerCommand("/nope/qwen-lsp", "/ws", "/venv/bin", exe(files));
  assert.deepEqual(bad, { ok: false, problem: 'qwenLsp.serverPath is "/nope/qwen-lsp", and that is not an executable file' });
});

test("nothing to start says so", () => {
  assert.deepEqual(resolveServerCommand("", undefined, "/a", exe([])),
    { ok: false, problem: "neither `qwen-lsp` nor `python3` is on PATH" });
});

test("isExecutableFile: an executable file yes; a plain file and a directory no", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qwen-lsp-test-"));
  const script = path.join(dir, "run");
  const plain = path.join(dir, "plain");
  fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(plain, "x", { mode: 0o644 });
  try {
    assert.equal(isExecutableFile(script), true);
    assert.equal(isExecutableFile(dir), false);
    if (process.getuid?.() !== 0) { // root may execute anything with any x bit; plain has none
      assert.equal(isExecutableFile(plain), false);
    }
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test("the install instructions carry the README's install command", () => {
  assert.match(INSTALL_INSTRUCTIONS, /python3 -m venv \.venv && \.venv\/bin\/pip install \. && /);
  assert.match(INSTALL_INSTRUCTIONS, /qwenLsp\.serverPath/);
});
