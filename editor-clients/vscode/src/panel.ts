/**
 * The explanation side panel: one webview, reused by every explanation, that fills in
 * as the answer streams, with Stop, Copy and a "from cache" marker.
 */
import * as vscode from "vscode";
import { makeNonce, panelHtml, panelUpdate, type PanelState } from "./core/panelHtml";

const MIN_UPDATE_MS = 50;

export class ExplanationPanel implements vscode.Disposable {
  private static current: ExplanationPanel | undefined;

  private readonly panel: vscode.WebviewPanel;
  private state: PanelState = { title: "", markdown: "", phase: "waiting", cached: false };
  private stop: (() => void) | undefined;
  private lastPost = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** The panel, created beside the editor or reused (and revealed without taking focus). */
  static show(): ExplanationPanel {
    if (ExplanationPanel.current === undefined) {
      ExplanationPanel.current = new ExplanationPanel();
    } else {
      ExplanationPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
    }
    return ExplanationPanel.current;
  }

  private constructor() {
    this.panel = vscode.window.createWebviewPanel("qwenLsp.explanation", "Qwen: explanation",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true, enableFindWidget: true });
    this.panel.onDidDispose(() => this.dispose(), null, this.disposables);
    this.panel.webview.onDidReceiveMessage((message: { type?: string }) => {
      if (message.type === "ready") {
        this.post(true); // the page (re)loaded: give it the current state
      } else if (message.type === "stop") {
        this.stop?.();
      } else if (message.type === "copy") {
        void vscode.env.clipboard.writeText(this.state.markdown).then(
          () => vscode.window.setStatusBarMessage("Qwen: explanation copied", 2000));
      }
    }, null, this.disposables);
  }

  /** A new explanation: the old content goes, the previous request (if any) is stopped. */
  begin(name: string, stop: () => void): void {
    this.stop?.();
    this.stop = stop;
    this.state = { title: this.titleFor(name), markdown: "", phase: "waiting", cached: false,
      note: "Thinking…" };
    this.panel.title = `Explain: ${name}`;
    if (this.panel.webview.html === "") {
      this.panel.webview.html = panelHtml(this.state, this.panel.webview.cspSource, makeNonce());
    } else {
      this.post(true);
    }
  }

  rename(name: string): void {
    this.state = { ...this.state, title: this.titleFor(name) };
    this.panel.title = `Explain: ${name}`;
    this.post(true);
  }

  note(note: string): void {
    this.state = { ...this.state, note };
    this.post(false);
  }

  /** The whole text so far (each progress report carries all of it). */
  stream(markdown: string): void {
    this.state = { ...this.state, markdown, phase: "streaming", note: "" };
    this.post(false);
  }

  finish(markdown: string, cached: boolean): void {
    this.stop = undefined;
    this.state = { ...this.state, markdown, cached, phase: "done",
      note: cached ? "From the result cache." : "" };
    this.post(true);
  }

  cancelled(): void {
    this.stop = undefined;
    this.state = { ...this.state, phase: "cancelled", note: "Stopped." };
    this.post(true);
  }

  failed(message: string): void {
    this.stop = undefined;
    this.state = { ...this.state, phase: "error", note: message };
    this.post(true);
  }

  private titleFor(name: string): string {
    return `Explanation of ${name}`;
  }

  private post(now: boolean): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const wait = MIN_UPDATE_MS - (Date.now() - this.lastPost);
    if (!now && wait > 0) {
      this.timer = setTimeout(() => this.post(true), wait);
      return;
    }
    this.lastPost = Date.now();
    void this.panel.webview.postMessage(panelUpdate(this.state));
  }

  dispose(): void {
    if (ExplanationPanel.current === this) {
      ExplanationPanel.current = undefined;
    }
    this.stop?.(); // closing the panel stops its explanation
    this.stop = undefined;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.disposables.forEach((d) => d.dispose());
    this.panel.dispose();
  }
}
