/** Qwen LSP for VS Code: activation, commands, and wiring of the pieces in common/. */
import * as vscode from "vscode";
import { ActionRunner } from "./actions";
import { disposeOutput, logInfo, outputChannel, showOutput } from "./common/logging";
import { ServerManager, showInstallInstructions } from "./common/server";
import { SECTION } from "./common/settings";
import { StatusBar } from "./common/status";
import { affectsServer } from "./core/settings";
import { EditPreview } from "./preview";

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const preview = new EditPreview();
  const server = new ServerManager({ workspace: { handleApplyEdit: preview.handleApplyEdit } });
  manager = server;
  // The status bar polls through the runner, which reports to the status bar.
  const status: StatusBar = new StatusBar(() => actions.fetchStatus());
  const actions: ActionRunner = new ActionRunner(server, status, preview);

  context.subscriptions.push(
    outputChannel(),
    preview,
    status,
    actions,
    server,
    server.onDidChangeState((state) =>
      status.setClient({ client: state, inFlight: actions.inFlight, failure: server.failureReason })),
    vscode.commands.registerCommand("qwenLsp.explain", (arg?: unknown) => actions.run("explain", arg)),
    vscode.commands.registerCommand("qwenLsp.refactor", (arg?: unknown) => actions.run("refactor", arg)),
    vscode.commands.registerCommand("qwenLsp.convertToAsync", (arg?: unknown) => actions.run("convertToAsync", arg)),
    vscode.commands.registerCommand("qwenLsp.cancel", () => actions.cancelAll()),
    vscode.commands.registerCommand("qwenLsp.showOutput", () => showOutput()),
    vscode.commands.registerCommand("qwenLsp.restart", () => server.restart()),
    vscode.commands.registerCommand("qwenLsp.showInstallInstructions", () => showInstallInstructions()),
    vscode.commands.registerCommand("qwenLsp.showStatus", async () => {
      status.refresh();
      const view = status.current;
      const choice = await vscode.window.showInformationMessage(view?.tooltip ?? "Qwen LSP", "Show Log");
      if (choice === "Show Log") {
        showOutput();
      }
    }),
    vscode.commands.registerCommand("qwenLsp.statusClicked", async () => {
      const click = status.current?.click;
      if (click === "cancel") {
        actions.cancelAll();
      } else if (click === "showOutput") {
        showOutput();
      } else {
        await vscode.commands.executeCommand("qwenLsp.showStatus");
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration(`${SECTION}.serverPath`)) {
        logInfo("qwenLsp.serverPath changed: restarting the server");
        await server.restart();
      } else if (affectsServer((section) => event.affectsConfiguration(section))) {
        // vscode-languageclient sends didChangeConfiguration (synchronize.configurationSection);
        // the server pulls its settings again and applies them without a restart.
        status.refresh();
      }
    }),
  );
  await server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
  disposeOutput();
}
