/**
 * The status bar item: starting / loading / ready / busy (queue length) / error, with the
 * model's path and sha256 in its tooltip. It polls `qwenLsp.status` while the model loads
 * or works, and now and then otherwise.
 */
import * as vscode from "vscode";
import { describeStatus, type ClientView, type StatusView } from "../core/status";
import type { ServerStatus } from "../core/protocol";

const FAST_POLL_MS = 1000;
const SLOW_POLL_MS = 15000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: ServerStatus | undefined;
  private client: ClientView = { client: "starting", inFlight: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private view: StatusView | undefined;

  constructor(private readonly fetchStatus: () => Promise<ServerStatus | undefined>) {
    this.item = vscode.window.createStatusBarItem("qwenLsp.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Qwen LSP";
    this.item.command = "qwenLsp.statusClicked";
    this.render();
    this.item.show();
  }

  get current(): StatusView | undefined {
    return this.view;
  }

  setClient(client: ClientView): void {
    this.client = client;
    if (client.client !== "running") {
      this.status = undefined;
    }
    this.render();
    this.schedule(0);
  }

  setInFlight(inFlight: number): void {
    this.client = { ...this.client, inFlight };
    this.render();
    this.schedule(inFlight > 0 ? FAST_POLL_MS : 0);
  }

  /** Ask the server now (e.g. after a request finished). */
  refresh(): void {
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.poll(), delay);
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    if (this.client.client !== "running") {
      return;
    }
    try {
      this.status = await this.fetchStatus();
    } catch {
      this.status = undefined;
    }
    this.render();
    const settled = this.view?.kind === "ready" || this.view?.kind === "error";
    this.schedule(settled ? SLOW_POLL_MS : FAST_POLL_MS);
  }

  private render(): void {
    this.view = describeStatus(this.status, this.client);
    this.item.text = this.view.text;
    this.item.tooltip = this.view.tooltip;
    this.item.accessibilityInformation = { label: `Qwen LSP: ${this.view.kind}`, role: "button" };
    this.item.backgroundColor = this.view.kind === "error"
      ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.item.dispose();
  }
}
