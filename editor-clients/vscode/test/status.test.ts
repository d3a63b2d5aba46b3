import assert from "node:assert/strict";
import { test } from "node:test";
import { describeStatus } from "../src/core/status";
import type { ServerStatus } from "../src/core/protocol";

const status = (state: string, queue = 0, error: string | null = null): ServerStatus => ({
  model: { path: "/cache/qwen.gguf", sha256: "1d9614638d18", state, error },
  queue,
  cache: { entries: 3, bytes: 100, path: "/cache/results.sqlite3" },
});

test("ready: the model's path and sha256 in the tooltip", () => {
  const view = describeStatus(status("ready"), { client: "running", inFlight: 0 });
  assert.equal(view.kind, "ready");
  assert.match(view.tooltip, /Model: \/cache\/qwen\.gguf/);
  assert.match(view.tooltip, /sha256: 1d9614638d18/);
  assert.equal(view.click, "showStatus");
});

test("loading, then busy with the queue length; a click while busy cancels", () => {
  assert.equal(describeStatus(status("loading"), { client: "running", inFlight: 0 }).kind, "loading");
  const busy = describeStatus(status("ready", 2), { client: "running", inFlight: 1 });
  assert.equal(busy.kind, "busy");
  assert.match(busy.text, /Qwen 2$/);
  assert.equal(busy.click, "cancel");
  assert.equal(describeStatus(status("ready", 0), { client: "running", inFlight: 1 }).kind, "busy");
});

test("errors show the reason; a click shows the log", () => {
  const model = describeStatus(status("error", 0, "model file missing"), { client: "running", inFlight: 0 });
  assert.equal(model.kind, "error");
  assert.match(model.tooltip, /model file missing/);
  assert.equal(model.click, "showOutput");
  const client = describeStatus(undefined, { client: "failed", inFlight: 0, failure: "no qwen-lsp" });
  assert.equal(client.kind, "error");
  assert.match(client.tooltip, /no qwen-lsp/);
  assert.equal(describeStatus(undefined, { client: "starting", inFlight: 0 }).kind, "starting");
});

test("a team server: its model id and address instead of a file", () => {
  const team: ServerStatus = {
    model: { path: null, sha256: null, state: "ready", error: null, backend: "openai",
             name: "qwen2.5-coder-7b", baseUrl: "http://gpu-box:8000/v1" },
    queue: 0,
  };
  const view = describeStatus(team, { client: "running", inFlight: 0 });
  assert.match(view.tooltip, /Model: qwen2\.5-coder-7b @ http:\/\/gpu-box:8000\/v1/);
  assert.doesNotMatch(view.tooltip, /not resolved/);
});
