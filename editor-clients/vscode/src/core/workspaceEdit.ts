/**
 * Reading the server's `workspace/applyEdit`: does it ask for confirmation, which
 * documents and versions it changes, and the same edit without its annotations.
 * Pure (LSP JSON in, LSP JSON out): unit-tested directly.
 */
import type { Range } from "./protocol";
import type { LspTextEdit } from "./textEdits";

export interface AnnotatedEdit extends LspTextEdit {
  annotationId?: string;
}

export interface LspTextDocumentEdit {
  textDocument: { uri: string; version: number | null };
  edits: AnnotatedEdit[];
}

export interface LspWorkspaceEdit {
  changes?: Record<string, AnnotatedEdit[]>;
  documentChanges?: Array<LspTextDocumentEdit | { kind: string }>;
  changeAnnotations?: Record<string, { label: string; needsConfirmation?: boolean; description?: string }>;
}

export interface DocumentEdit {
  uri: string;
  /** null when the server did not say which version it edited. */
  version: number | null;
  edits: LspTextEdit[];
}

/** True when any edit carries an annotation that needs confirmation. */
export function needsConfirmation(edit: LspWorkspaceEdit): boolean {
  const annotations = edit.changeAnnotations ?? {};
  const confirm = (id: string | undefined) => id !== undefined && annotations[id]?.needsConfirmation === true;
  const all: AnnotatedEdit[] = [
    ...Object.values(edit.changes ?? {}).flat(),
    ...(edit.documentChanges ?? []).flatMap((c) => ("edits" in c ? c.edits : [])),
  ];
  const fileOps = (edit.documentChanges ?? []).some((c) => !("edits" in c));
  return all.some((e) => confirm(e.annotationId)) ||
    (fileOps && Object.values(annotations).some((a) => a.needsConfirmation === true));
}

/** The text edits per document, or undefined if the edit also creates/renames/deletes files. */
export function documentEdits(edit: LspWorkspaceEdit): DocumentEdit[] | undefined {
  const result: DocumentEdit[] = [];
  for (const change of edit.documentChanges ?? []) {
    if (!("edits" in change)) {
      return undefined;
    }
    result.push({
      uri: change.textDocument.uri,
      version: change.textDocument.version ?? null,
      edits: change.edits.map(plainEdit),
    });
  }
  if (edit.documentChanges === undefined) {
    for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
      result.push({ uri, version: null, edits: edits.map(plainEdit) });
    }
  }
  return result;
}

function plainEdit(e: AnnotatedEdit): LspTextEdit {
  const range: Range = e.range;
  return { range, newText: e.newText };
}

/** The same edit with no annotations: VS Code applies it at once, as the user accepted it. */
export function withoutAnnotations(edit: LspWorkspaceEdit): LspWorkspaceEdit {
  const result: LspWorkspaceEdit = {};
  if (edit.changes !== undefined) {
    result.changes = Object.fromEntries(
      Object.entries(edit.changes).map(([uri, edits]) => [uri, edits.map(plainEdit)]));
  }
  if (edit.documentChanges !== undefined) {
    result.documentChanges = edit.documentChanges.map((change) => {
      if (!("edits" in change)) {
        const { annotationId: _dropped, ...rest } = change as { kind: string; annotationId?: string };
        return rest;
      }
      return { textDocument: change.textDocument, edits: change.edits.map(plainEdit) };
    });
  }
  return result;
}

/** The label the server gave its annotation ("AI refactor of `foo`"), for the preview's title. */
export function annotationLabel(edit: LspWorkspaceEdit): string | undefined {
  return Object.values(edit.changeAnnotations ?? {}).find((a) => a.needsConfirmation)?.label;
}
