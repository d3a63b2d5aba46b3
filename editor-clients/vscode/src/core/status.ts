/**
 * What the status bar item says, from the server's `qwenLsp.status` and the client's
 * own state. Pure: unit-tested directly.
 */
import type { ServerStatus } from "./protocol";

export type StatusKind = "starting" | "loading" | "ready" | "busy" | "error" | "stopped";

export interface StatusView {
  kind: StatusKind;
  text: string;
  tooltip: string;
  /** What a click does. */
  click: "cancel" | "showOutput" | "showStatus";
}

export interface ClientView {
  /** The client is starting, running, or could not start / stopped. */
  client: "starting" | "running" | "failed" | "stopped";
  /** Requests this extension has in flight. */
  inFlight: number;
  failure?: string;
}

function modelLines(status: ServerStatus | undefined): string[] {
  if (status === undefined) {
    return [];
  }
  const lines = status.model.backend === "openai"
    ? [`Model: ${status.model.name ?? "(not known yet)"} @ ${status.model.baseUrl ?? "?"}`]
    : [`Model: ${status.model.path ?? "(not resolved yet)"}`];
  if (status.model.sha256) {
    lines.push(`sha256: ${status.model.sha256}`);
  }
  if (status.cache && typeof status.cache.entries === "number") {
    lines.push(`Result cache: ${status.cache.entries} entries` +
      (status.cache.path ? ` in ${status.cache.path}` : ""));
  }
  return lines;
}

export function describeStatus(status: ServerStatus | undefined, client: ClientView): StatusView {
  if (client.client === "failed" || client.client === "stopped") {
    return {
      kind: client.client === "failed" ? "error" : "stopped",
      text: "$(error) Qwen",
      tooltip: [`Qwen LSP: the server is not running${client.failure ? `: ${client.failure}` : ""}`,
        "Click to show the log."].join("\n"),
      click: "showOutput",
    };
  }
  if (client.client === "starting" || status === undefined) {
    return { kind: "starting", text: "$(loading~spin) Qwen", tooltip: "Qwen LSP: starting the server",
      click: "showOutput" };
  }
  const model = modelLines(status);
  if (status.model.state === "error") {
    return {
      kind: "error",
      text: "$(error) Qwen",
      tooltip: [`Qwen LSP: the model did not load: ${status.model.error ?? "unknown error"}`,
        ...model, "Click to show the log."].join("\n"),
      click: "showOutput",
    };
  }
  const queue = Math.max(status.queue ?? 0, 0);
  const busy = Math.max(queue, client.inFlight);
  if (busy > 0) {
    return {
      kind: "busy",
      text: `$(sync~spin) Qwen ${busy}`,
      tooltip: [`Qwen LSP: working (${busy} ${busy === 1 ? "request" : "requests"} queued or running)`,
        ...model, "Click to stop."].join("\n"),
      click: "cancel",
    };
  }
  if (status.model.state === "loading" || status.model.state === "idle") {
    return { kind: "loading", text: "$(loading~spin) Qwen",
      tooltip: ["Qwen LSP: loading the model", ...model].join("\n"), click: "showStatus" };
  }
  return { kind: "ready", text: "$(sparkle) Qwen",
    tooltip: ["Qwen LSP: ready", ...model].join("\n"), click: "showStatus" };
}
