/**
 * Starting, restarting and stopping the qwen-lsp server with vscode-languageclient.
 * When it cannot start, the user gets one notification that says why, with
 * "Open Settings" and "Show Install Instructions", never a stack trace.
 */
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type DynamicFeature,
  type Middleware,
  type ServerOptions,
  type StaticFeature,
} from "vscode-languageclient/node";
import { LANGUAGES } from "../core/protocol";
import { INSTALL_INSTRUCTIONS, resolveServerCommand, type ServerCommand } from "../core/serverCommand";
import { logError, logInfo, outputChannel } from "./logging";
import {
  SECTION,
  currentInitializationOptions,
  currentServerSettings,
  serverPath,
  workspaceFolderPath,
} from "./settings";

export type ClientState = "starting" | "running" | "failed" | "stopped";

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/**
 * A LanguageClient whose own error notifications become log lines (ours say what to do),
 * and that leaves the server's commands to this extension: `qwenLsp.explain` & co. are
 * registered by the extension itself, so that a code action picked from the light bulb
 * opens the same panel and preview as the context menu.
 */
class QuietLanguageClient extends LanguageClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override registerFeature(feature: StaticFeature | DynamicFeature<any>): void {
    if ("registrationType" in feature && feature.registrationType.method === ExecuteCommandRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }

  override error(message: string, data?: unknown, _showNotification?: boolean | "force"): void {
    super.error(message, data, false);
  }
}

function pythonHasQwenLsp(server: ServerCommand): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(server.command, ["-c", "import qwen_lsp"], { timeout: 20000 }, (error, _out, stderr) => {
      resolve(error ? (stderr.trim().split("\n").pop() || error.message) : undefined);
    });
  });
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private stateValue: ClientState = "stopped";
  private queue: Promise<void> = Promise.resolve();
  private failure: string | undefined;
  private notified = false;
  private restarts: number[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ClientState>();
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(private readonly middleware: Middleware) {}

  get state(): ClientState {
    return this.stateValue;
  }

  get failureReason(): string | undefined {
    return this.failure;
  }

  /** The running client, or undefined (and the user told why) when there is none. */
  get running(): LanguageClient | undefined {
    return this.client !== undefined && this.client.state === State.Running ? this.client : undefined;
  }

  private setState(state: ClientState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  /** Start, stop and restart run one after another, never interleaved. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  start(): Promise<void> {
    return this.serial(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serial(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      await this.doStop();
      this.notified = false;
      this.restarts = [];
      await this.doStart();
    });
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.setState("starting");
    const resolution = resolveServerCommand(serverPath(), workspaceFolderPath(), process.env.PATH);
    if (!resolution.ok) {
      await this.fail(resolution.problem);
      return;
    }
    const server = resolution.server;
    if (server.args[0] === "-m") {
      const problem = await pythonHasQwenLsp(server);
      if (problem !== undefined) {
        await this.fail(`\`qwen-lsp\` is not on PATH, and ${server.command} cannot import qwen_lsp (${problem})`);
        return;
      }
    }
    logInfo(`starting the server: ${server.display}`);
    const owner: { client?: LanguageClient } = {};
    const client = new QuietLanguageClient("qwenLsp", "Qwen LSP", this.serverOptions(server),
      this.clientOptions(owner));
    owner.client = client;
    this.client = client;
    client.onDidChangeState((event) => {
      if (this.client !== client) {
        return;
      }
      if (event.newState === State.Running) {
        this.failure = undefined;
        this.notified = false;
        this.setState("running");
      } else if (event.newState === State.Stopped && this.stateValue === "running") {
        this.setState("stopped");
      }
    });
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) {
        this.client = undefined;
        await this.fail(`${server.display} did not start as a language server ` +
          `(${error instanceof Error ? error.message : String(error)})`);
      }
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (error) {
        logError(`stopping the server: ${error instanceof Error ? error.message : String(error)}`);
      }
      try {
        await client.dispose(1000);
      } catch {
        // already stopped
      }
    }
    this.setState("stopped");
  }

  /** One notification per failure, until the server starts again or the user restarts it. */
  async fail(problem: string): Promise<void> {
    this.failure = problem;
    this.setState("failed");
    logError(`the server cannot run: ${problem}`);
    if (!this.notified) {
      this.notified = true;
      void this.notify(problem); // not awaited: activation must not wait for the user
    }
  }

  /** The user asked for an action while there is no server: say why again. */
  async explainFailure(): Promise<void> {
    await this.notify(this.failure ?? "the server is not running");
  }

  private async notify(problem: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `Qwen LSP cannot start its server: ${problem}. Install qwen-lsp and set qwenLsp.serverPath ` +
      "to its executable.", "Open Settings", "Show Install Instructions");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.serverPath`);
    } else if (choice === "Show Install Instructions") {
      await showInstallInstructions();
    }
  }

  private serverOptions(server: ServerCommand): ServerOptions {
    return { command: server.command, args: server.args, options: { env: process.env } };
  }

  private clientOptions(owner: { client?: LanguageClient }): LanguageClientOptions {
    return {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      outputChannel: outputChannel(),
      traceOutputChannel: outputChannel(),
      initializationOptions: currentInitializationOptions(),
      synchronize: { configurationSection: SECTION },
      middleware: {
        ...this.middleware,
        workspace: {
          ...this.middleware.workspace,
          // The server pulls `qwenLsp`: it gets exactly its own settings, nested, unset ones left out.
          configuration: (params, token, next) => {
            const items = params.items;
            if (items.every((item) => item.section !== SECTION)) {
              return next(params, token);
            }
            return items.map((item) => item.section === SECTION
              ? currentServerSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
              : null);
          },
        },
      },
      errorHandler: {
        error: (_error, _message, count) => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: () => {
          if (owner.client === undefined || owner.client !== this.client) {
            return { action: CloseAction.DoNotRestart, handled: true }; // an old client, stopped on purpose
          }
          const now = Date.now();
          this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
          if (this.restarts.length < MAX_RESTARTS && this.stateValue === "running") {
            this.restarts.push(now);
            logError("the server stopped unexpectedly; restarting it (the log above says why)");
            return { action: CloseAction.Restart, handled: true };
          }
          const client = this.client;
          this.client = undefined;
          void client?.dispose().catch(() => undefined);
          void this.fail("the server keeps stopping (the \"Qwen LSP\" output has its log)");
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: (error) => {
        logError(`initialize failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
    };
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }
}

export async function showInstallInstructions(): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: "markdown", content: INSTALL_INSTRUCTIONS });
  await vscode.window.showTextDocument(doc, { preview: true });
}
