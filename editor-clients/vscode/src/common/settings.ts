/** VS Code's `qwenLsp` configuration, read for the server and for the extension itself. */
import * as vscode from "vscode";
import { initializationOptions, serverSettings, type ServerSettings } from "../core/settings";

export const SECTION = "qwenLsp";

function getter(scope?: vscode.ConfigurationScope): (key: string) => unknown {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return (key) => config.get(key);
}

export function currentServerSettings(scope?: vscode.ConfigurationScope): ServerSettings {
  return serverSettings(getter(scope));
}

export function currentInitializationOptions(): ServerSettings {
  return initializationOptions(getter());
}

export function serverPath(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>("serverPath") ?? "";
}

export function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}
