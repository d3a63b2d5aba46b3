/**
 * The accept flow for AI edits. The server sends `workspace/applyEdit` with a change
 * annotation that needs confirmation. VS Code's own Refactor Preview would show such
 * edits unchecked, where "Apply" with nothing ticked applies nothing; instead this
 * middleware opens a diff (the file ↔ the file as the edit leaves it) with two obvious
 * actions, Accept and Discard (a notification, the diff's title bar, and keybindings).
 * Accept applies exactly the server's edit, through vscode-languageclient, which checks
 * the document version again; Discard, closing the diff or editing the file answers
 * `applied: false`. The server's `applied` is what the user did.
 */
import * as vscode from "vscode";
import {
  CancellationToken,
  type ApplyWorkspaceEditParams,
  type ApplyWorkspaceEditRequest,
  type ApplyWorkspaceEditResult,
} from "vscode-languageclient/node";
import { applyTextEdits } from "./core/textEdits";
import {
  annotationLabel,
  documentEdits,
  needsConfirmation,
  withoutAnnotations,
  type LspWorkspaceEdit,
} from "./core/workspaceEdit";
import { logInfo } from "./common/logging";

const SCHEME = "qwen-lsp-proposed";
const CONTEXT_KEY = "qwenLsp.previewActive";

type Choice = "accept" | "discard" | { failure: string };

interface Pending {
  settle: (choice: Choice) => void;
}

type Next = ApplyWorkspaceEditRequest.HandlerSignature;

export class EditPreview implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private readonly proposals = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private pending: Pending | undefined;
  private counter = 0;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly messageEmitter = new vscode.EventEmitter<string>();
  /** Tells the running action what the preview is waiting for. */
  readonly onDidShowPreview = this.messageEmitter.event;

  constructor() {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      vscode.commands.registerCommand("qwenLsp.acceptEdit", () => this.pending?.settle("accept")),
      vscode.commands.registerCommand("qwenLsp.discardEdit", () => this.pending?.settle("discard")),
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposals.get(uri.toString()) ?? "";
  }

  /** The `workspace.handleApplyEdit` middleware. */
  readonly handleApplyEdit = async (params: ApplyWorkspaceEditParams, next: Next): Promise<ApplyWorkspaceEditResult> => {
    const edit = params.edit as LspWorkspaceEdit;
    const docs = needsConfirmation(edit) ? documentEdits(edit) : undefined;
    if (docs === undefined || docs.length !== 1) {
      // Not ours to preview (no confirmation asked, or file operations): VS Code's own flow.
      return await next(params, CancellationToken.None) as ApplyWorkspaceEditResult;
    }
    const [target] = docs;
    const uri = vscode.Uri.parse(target.uri);
    const document = await vscode.workspace.openTextDocument(uri);
    if (target.version !== null && document.version !== target.version) {
      return { applied: false, failureReason: "the document changed after the edit was made" };
    }
    let proposed: string;
    try {
      proposed = applyTextEdits(document.getText(), target.edits);
    } catch (error) {
      return { applied: false, failureReason: error instanceof Error ? error.message : String(error) };
    }
    this.pending?.settle("discard"); // one preview at a time
    const version = document.version;
    const label = annotationLabel(edit) ?? params.label ?? "AI edit";
    const choice = await this.ask(document, proposed, label);
    if (choice !== "accept") {
      const failureReason = choice === "discard" ? "the user discarded it in the preview" : choice.failure;
      logInfo(`${label}: not applied (${failureReason})`);
      return { applied: false, failureReason };
    }
    if (document.version !== version) {
      return { applied: false, failureReason: "the document changed while the preview was open" };
    }
    const plain = { ...params, edit: withoutAnnotations(edit) as ApplyWorkspaceEditParams["edit"] };
    const result = await next(plain, CancellationToken.None) as ApplyWorkspaceEditResult;
    logInfo(`${label}: ${result.applied ? "applied" : `not applied (${result.failureReason ?? "refused"})`}`);
    return result;
  };

  private async ask(document: vscode.TextDocument, proposed: string, label: string): Promise<Choice> {
    const name = document.uri.path.split("/").pop() ?? "file";
    const right = vscode.Uri.from({ scheme: SCHEME, path: `/${++this.counter}/${name}` });
    this.proposals.set(right.toString(), proposed);
    const title = `${name} ↔ ${label} (review, then Accept or Discard)`;
    const listeners: vscode.Disposable[] = [];
    const choice = new Promise<Choice>((resolve) => {
      this.pending = { settle: resolve };
      listeners.push(
        vscode.workspace.onDidChangeTextDocument((event) => {
          if (event.document === document && event.contentChanges.length > 0) {
            resolve({ failure: "the document changed while the preview was open" });
          }
        }),
        vscode.workspace.onDidCloseTextDocument((closed) => {
          if (closed === document) {
            resolve({ failure: "the document was closed while the preview was open" });
          }
        }),
        vscode.window.tabGroups.onDidChangeTabs((event) => {
          if (event.closed.some((tab) => isDiffOf(tab, right))) {
            resolve("discard");
          }
        }),
      );
    });
    await vscode.commands.executeCommand("setContext", CONTEXT_KEY, true);
    await vscode.commands.executeCommand("vscode.diff", document.uri, right, title, { preview: false });
    this.messageEmitter.fire("review the proposed change, then Accept or Discard");
    void vscode.window.showInformationMessage(`Qwen: ${label} is ready. Accept the change?`,
      "Accept", "Discard").then((button) => {
      if (button === "Accept") {
        this.pending?.settle("accept");
      } else if (button === "Discard") {
        this.pending?.settle("discard");
      }
    });
    const result = await choice;
    this.pending = undefined;
    listeners.forEach((l) => l.dispose());
    await vscode.commands.executeCommand("setContext", CONTEXT_KEY, false);
    await closeDiff(right);
    this.proposals.delete(right.toString());
    return result;
  }

  dispose(): void {
    this.pending?.settle("discard");
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
    this.messageEmitter.dispose();
  }
}

function isDiffOf(tab: vscode.Tab, right: vscode.Uri): boolean {
  return tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === right.toString();
}

async function closeDiff(right: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => isDiffOf(tab, right));
  if (tabs.length > 0) {
    await vscode.window.tabGroups.close(tabs, true);
  }
}
