import assert from "node:assert/strict";
import { test } from "node:test";
import { manifest } from "./manifest";
import { affectsServer, initializationOptions, SERVER_SETTING_KEYS, serverSettings } from "../src/core/settings";

const pkg = manifest;
const properties: Record<string, { default?: unknown; description?: string; markdownDescription?: string }> =
  pkg.contributes.configuration.properties;

test("every server setting of the interface is contributed, with a description", () => {
  for (const key of SERVER_SETTING_KEYS) {
    const property = properties[`qwenLsp.${key}`];
    assert.ok(property, `qwenLsp.${key} is not in package.json`);
    assert.ok((property.description ?? property.markdownDescription ?? "").length > 10, key);
  }
  assert.ok(properties["qwenLsp.serverPath"] && properties["qwenLsp.trace.server"]);
});

test("the contributed defaults, sent as they are, are the server's defaults (nested, nulls left out)", () => {
  const get = (key: string) => properties[`qwenLsp.${key}`]?.default;
  assert.deepEqual(serverSettings(get), {
    modelPath: "", contextSize: 4096, maxOutputTokens: 768, temperature: 0,
    explanationDisplay: "client", explanationLanguage: "auto", confirmEdits: true,
    cache: { enabled: true, directory: "", maxMegabytes: 256 },
    promptsDirectory: "", maxSpanLines: 400, maxFileBytes: 5000000, prefill: "idle",
    backend: "embedded",
    openai: { baseUrl: "", model: "", apiKeyEnv: "QWEN_LSP_API_KEY", timeoutSeconds: 60 },
  });
});

test("client-only settings never reach the server", () => {
  const values: Record<string, unknown> = { serverPath: "/x/qwen-lsp", "trace.server": "verbose", threads: 2 };
  const sent = serverSettings((key) => values[key]);
  assert.deepEqual(sent, { threads: 2 });
});

test("initializationOptions ask for explanations in the extension's panel", () => {
  assert.equal(initializationOptions(() => undefined).explanationDisplay, "client");
  assert.equal(initializationOptions((k) => (k === "explanationDisplay" ? "server" : undefined))
    .explanationDisplay, "server");
});

test("a change to a server setting is noticed, a change to serverPath alone is not", () => {
  assert.equal(affectsServer((s) => s === "qwenLsp.openai.baseUrl"), true);
  assert.equal(affectsServer((s) => s === "qwenLsp.serverPath"), false);
});
