/** The "Qwen LSP" output channel: the server's log (window/logMessage, stderr) and ours. */
import * as vscode from "vscode";

let channel: vscode.LogOutputChannel | undefined;

export function outputChannel(): vscode.LogOutputChannel {
  if (channel === undefined) {
    channel = vscode.window.createOutputChannel("Qwen LSP", { log: true });
  }
  return channel;
}

export function logInfo(message: string): void {
  outputChannel().info(message);
}

export function logError(message: string): void {
  outputChannel().error(message);
}

export function showOutput(): void {
  outputChannel().show(true);
}

export function disposeOutput(): void {
  channel?.dispose();
  channel = undefined;
}
