/**
 * The server's commands and the shapes of their arguments and results
 * (shared/INTERFACE.md). Pure: unit-tested directly.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type ActionId = "explain" | "refactor" | "convertToAsync";

export interface ActionSpec {
  id: ActionId;
  /** The server's command, and this extension's command of the same name. */
  command: string;
  title: string;
  /** What the progress says while it runs, e.g. "Refactoring". */
  doing: string;
}

export const ACTIONS: Record<ActionId, ActionSpec> = {
  explain: { id: "explain", command: "qwenLsp.explain", title: "Ask AI to explain",
    doing: "Explaining" },
  refactor: { id: "refactor", command: "qwenLsp.refactor", title: "Refactor with AI",
    doing: "Refactoring" },
  convertToAsync: { id: "convertToAsync", command: "qwenLsp.convertToAsync",
    title: "Convert to async with AI", doing: "Converting to async" },
};

export const STATUS_COMMAND = "qwenLsp.status";

/** Languages the server parses (VS Code language ids). */
export const LANGUAGES = [
  "python", "javascript", "typescript", "typescriptreact", "go", "rust", "java", "c", "cpp",
  "csharp", "ruby", "php", "shellscript",
] as const;

/** Languages "Convert to async" is offered for. */
export const ASYNC_LANGUAGES = ["python", "javascript", "typescript", "typescriptreact"] as const;

export interface CommandArgument {
  textDocument: { uri: string; version: number };
  range: Range;
}

/**
 * The one argument object of every command. An empty range (no selection) means the
 * function, method or class around the cursor: the server finds it.
 */
export function commandArgument(uri: string, version: number, range: Range): CommandArgument {
  const ordered = before(range.end, range.start) ? { start: range.end, end: range.start } : range;
  return {
    textDocument: { uri, version },
    range: {
      start: { line: ordered.start.line, character: ordered.start.character },
      end: { line: ordered.end.line, character: ordered.end.character },
    },
  };
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

export interface ExplainResult {
  markdown: string;
  cached: boolean;
  target: Range;
}

export interface RewriteResult {
  applied: boolean;
  cached: boolean;
  edit: unknown;
  notes: string[];
}

export interface ServerStatus {
  model: {
    path: string | null; sha256: string | null; state: string; error: string | null;
    /** "embedded" (a GGUF: path and sha256) or "openai" (a team server: name and baseUrl). */
    backend?: string; name?: string | null; baseUrl?: string | null;
  };
  queue: number;
  cache?: { entries?: number; bytes?: number; path?: string | null };
}

export function isExplainResult(value: unknown): value is ExplainResult {
  const v = value as ExplainResult | null;
  return typeof v === "object" && v !== null && typeof v.markdown === "string";
}

export function isRewriteResult(value: unknown): value is RewriteResult {
  const v = value as RewriteResult | null;
  return typeof v === "object" && v !== null && typeof v.applied === "boolean";
}

/** "Qwen: Explaining `shout`" -> "shout" (the server names its target in progress titles). */
export function nameFromProgressTitle(title: string | undefined): string | undefined {
  const match = /`([^`]+)`/.exec(title ?? "");
  return match ? match[1] : undefined;
}

/** The name a definition line declares, in the languages the server parses. */
export function definitionName(line: string): string | undefined {
  const patterns = [
    /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/, // python
    /^\s*class\s+([A-Za-z_$][\w$]*)/,
    /\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)/, // js/ts/php
    /^\s*func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/, // go
    /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+([A-Za-z_]\w*)/, // rust
    /^\s*def\s+(?:self\.)?([A-Za-z_]\w*[?!]?)/, // ruby
    /^\s*(?:(?:export|public|private|protected|static|async|readonly)\s+)*(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=/,
    /^\s*(?:(?:public|private|protected|static|async|override)\s+)*([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*[:{]/, // method
    /([A-Za-z_]\w*)\s*\([^;]*\)\s*(?:const\s*)?\{?\s*$/, // c-like
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(line);
    if (match) {
      return match[1];
    }
  }
  return undefined;
}

export const REQUEST_CANCELLED = -32800;
export const SERVER_CANCELLED = -32802;

/** Whether a rejected request was cancelled (by us or by the server). */
export function isCancellation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === REQUEST_CANCELLED || code === SERVER_CANCELLED;
}

/** The message of a failed request, as a person should read it. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}
