/**
 * Running the server's commands on the selection, or on the function around the cursor.
 * Each request carries its own workDoneToken: the explanation streams into the panel,
 * a rewrite's progress is a cancellable notification. Stop / Cancel sends
 * `$/cancelRequest`; the server stops the model and applies nothing.
 */
import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  WorkDoneProgress,
  type LanguageClient,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
} from "vscode-languageclient/node";
import {
  ACTIONS,
  commandArgument,
  definitionName,
  errorMessage,
  isCancellation,
  isExplainResult,
  isRewriteResult,
  nameFromProgressTitle,
  STATUS_COMMAND,
  type ActionId,
  type CommandArgument,
  type ServerStatus,
} from "./core/protocol";
import { logError, logInfo } from "./common/logging";
import type { ServerManager } from "./common/server";
import type { StatusBar } from "./common/status";
import { ExplanationPanel } from "./panel";
import type { EditPreview } from "./preview";

type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | { kind: "end"; message?: string };

export class ActionRunner implements vscode.Disposable {
  private readonly running = new Set<vscode.CancellationTokenSource>();

  constructor(
    private readonly server: ServerManager,
    private readonly status: StatusBar,
    private readonly preview: EditPreview,
  ) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** Stop every request this extension has running (the status bar's click while busy). */
  cancelAll(): void {
    for (const source of this.running) {
      source.cancel();
    }
  }

  async fetchStatus(): Promise<ServerStatus | undefined> {
    const client = this.server.running;
    if (client === undefined) {
      return undefined;
    }
    return await client.sendRequest(ExecuteCommandRequest.type,
      { command: STATUS_COMMAND, arguments: [] }) as ServerStatus;
  }

  /**
   * From the context menu, palette or a keybinding: on the active editor's selection. From
   * a code action (the light bulb): on the server's own argument object.
   */
  async run(id: ActionId, given?: unknown): Promise<void> {
    const target = this.target(given);
    if (target === undefined) {
      void vscode.window.showInformationMessage("Qwen: open a file and put the cursor in a function first.");
      return;
    }
    const client = await this.client();
    if (client === undefined) {
      return;
    }
    const { document, selection } = target;
    const argument = commandArgument(client.code2ProtocolConverter.asUri(document.uri), document.version,
      client.code2ProtocolConverter.asRange(selection));
    // The server names its target (the enclosing function) in its progress; until then:
    const name = selection.isEmpty ? "the code at the cursor" : "the selection";
    const source = new vscode.CancellationTokenSource();
    this.running.add(source);
    this.status.setInFlight(this.running.size);
    try {
      if (id === "explain") {
        await this.explain(client, argument, name, source, document);
      } else {
        await this.rewrite(client, id, argument, name, source);
      }
    } finally {
      this.running.delete(source);
      source.dispose();
      this.status.setInFlight(this.running.size);
    }
  }

  private target(given: unknown): { document: vscode.TextDocument; selection: vscode.Selection } | undefined {
    const arg = given as Partial<CommandArgument> | undefined;
    if (arg?.textDocument?.uri !== undefined && arg.range !== undefined) {
      const uri = arg.textDocument.uri;
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === vscode.Uri.parse(uri).toString());
      if (document !== undefined) {
        const { start, end } = arg.range;
        return { document, selection: new vscode.Selection(start.line, start.character, end.line, end.character) };
      }
    }
    const editor = vscode.window.activeTextEditor;
    return editor === undefined ? undefined : { document: editor.document, selection: editor.selection };
  }

  private async client(): Promise<LanguageClient | undefined> {
    if (this.server.state === "starting") {
      await new Promise<void>((resolve) => {
        const listener = this.server.onDidChangeState((state) => {
          if (state !== "starting") {
            listener.dispose();
            resolve();
          }
        });
      });
    }
    const client = this.server.running;
    if (client === undefined) {
      await this.server.explainFailure();
    }
    return client;
  }

  private send(client: LanguageClient, command: string, argument: unknown, token: string,
    source: vscode.CancellationTokenSource): Promise<unknown> {
    return client.sendRequest(ExecuteCommandRequest.type,
      { command, arguments: [argument], workDoneToken: token }, source.token);
  }

  private async explain(client: LanguageClient, argument: CommandArgument, name: string,
    source: vscode.CancellationTokenSource, document: vscode.TextDocument): Promise<void> {
    const panel = ExplanationPanel.show();
    panel.begin(name, () => source.cancel());
    const token = `qwen-explain-${randomUUID()}`;
    const progress = client.onProgress(WorkDoneProgress.type, token, (value: ProgressValue) => {
      if (value.kind === "begin") {
        const named = nameFromProgressTitle(value.title);
        if (named !== undefined) {
          panel.rename(named);
        }
        if (value.message) {
          panel.note(value.message);
        }
      } else if (value.kind === "report" && value.message) {
        panel.stream(value.message);
      }
    });
    try {
      const result = await this.send(client, ACTIONS.explain.command, argument, token, source);
      if (!isExplainResult(result)) {
        throw new Error("the server's answer is not an explanation");
      }
      const line = document.lineAt(Math.min(result.target.start.line, document.lineCount - 1)).text;
      const named = definitionName(line);
      if (named !== undefined) {
        panel.rename(named);
      }
      panel.finish(result.markdown, result.cached);
    } catch (error) {
      if (isCancellation(error) || source.token.isCancellationRequested) {
        panel.cancelled();
      } else {
        // the server has shown the same message as a notification
        logError(`explain failed: ${errorMessage(error)}`);
        panel.failed(errorMessage(error));
      }
    } finally {
      progress.dispose();
    }
  }

  private async rewrite(client: LanguageClient, id: ActionId, argument: CommandArgument,
    name: string, source: vscode.CancellationTokenSource): Promise<void> {
    const spec = ACTIONS[id];
    const token = `qwen-${id}-${randomUUID()}`;
    await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification,
      title: `Qwen: ${spec.doing}`,
      cancellable: true,
    }, async (progress, cancel) => {
      cancel.onCancellationRequested(() => source.cancel());
      let label = name;
      const say = (message: string) => progress.report({ message: `${label}: ${message}` });
      const reviewing = this.preview.onDidShowPreview(say);
      const reports = client.onProgress(WorkDoneProgress.type, token, (value: ProgressValue) => {
        if (value.kind === "begin") {
          const named = nameFromProgressTitle(value.title);
          label = named !== undefined ? `\`${named}\`` : label;
          say(value.message ?? "working…");
        } else if (value.kind === "report" && value.message) {
          const lines = value.message.split("\n").length;
          say(`writing… ${lines} ${lines === 1 ? "line" : "lines"}`);
        }
      });
      try {
        const result = await this.send(client, spec.command, argument, token, source);
        if (!isRewriteResult(result)) {
          throw new Error("the server's answer is not an edit result");
        }
        // The notes (e.g. sync callers left unchanged) come from the server as a message too.
        logInfo(`${spec.title} of ${name}: ${result.applied ? "applied" : "not applied"}` +
          `${result.cached ? " (from cache)" : ""}${result.notes.length ? `; ${result.notes.join("; ")}` : ""}`);
      } catch (error) {
        if (isCancellation(error) || source.token.isCancellationRequested) {
          logInfo(`${spec.title} of ${name}: stopped; nothing was applied`);
          void vscode.window.setStatusBarMessage(`Qwen: ${spec.title} stopped; nothing was applied`, 5000);
        } else {
          logError(`${spec.title} of ${name} failed: ${errorMessage(error)}`);
        }
      } finally {
        reviewing.dispose();
        reports.dispose();
      }
    });
  }

  dispose(): void {
    this.cancelAll();
  }
}
