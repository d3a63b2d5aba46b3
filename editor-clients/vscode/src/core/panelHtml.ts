/**
 * The explanation panel's HTML: a strict Content-Security-Policy (no remote content,
 * scripts and styles only with this page's nonce), Markdown rendered here with raw HTML
 * disabled, colours from VS Code's theme variables. Pure: unit-tested directly.
 */
import { randomBytes } from "node:crypto";
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

export type PanelPhase = "waiting" | "streaming" | "done" | "cancelled" | "error";

export interface PanelState {
  title: string;
  markdown: string;
  phase: PanelPhase;
  cached: boolean;
  /** A line shown under the title, e.g. the error or "Stopped". */
  note?: string;
}

/** What the page's script receives to update itself. */
export interface PanelUpdate {
  type: "update";
  title: string;
  html: string;
  phase: PanelPhase;
  cached: boolean;
  note: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64").replace(/[+/=]/g, "");
}

/** Markdown to HTML; raw HTML in the text is shown as text, never run. */
export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource}`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "font-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

export function panelUpdate(state: PanelState): PanelUpdate {
  return {
    type: "update",
    title: state.title,
    html: renderMarkdown(state.markdown),
    phase: state.phase,
    cached: state.cached,
    note: state.note ?? "",
  };
}

const STYLE = `
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
    color: var(--vscode-foreground); background: var(--vscode-editor-background);
    padding: 0 16px 16px; line-height: 1.5; }
  header { position: sticky; top: 0; background: var(--vscode-editor-background);
    padding: 10px 0 8px; border-bottom: 1px solid var(--vscode-panel-border, transparent);
    display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  h1 { font-size: 1.15em; margin: 0; flex: 1 1 auto; font-weight: 600; }
  button { font-family: inherit; font-size: inherit; padding: 3px 10px; border: none;
    color: var(--vscode-button-foreground); background: var(--vscode-button-background);
    cursor: pointer; border-radius: 2px; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  button.secondary { color: var(--vscode-button-secondaryForeground);
    background: var(--vscode-button-secondaryBackground); }
  button.secondary:hover { background: var(--vscode-button-secondaryHoverBackground); }
  button[hidden], .badge[hidden] { display: none; }
  .badge { font-size: 0.85em; padding: 1px 7px; border-radius: 8px;
    color: var(--vscode-badge-foreground); background: var(--vscode-badge-background); }
  #note { color: var(--vscode-descriptionForeground); margin: 6px 0 0; min-height: 1em; }
  #note.error { color: var(--vscode-errorForeground); }
  #content code { font-family: var(--vscode-editor-font-family); font-size: 0.95em;
    background: var(--vscode-textCodeBlock-background); padding: 1px 3px; border-radius: 3px; }
  #content pre { background: var(--vscode-textCodeBlock-background); padding: 8px 10px;
    overflow-x: auto; border-radius: 3px; }
  #content pre code { background: none; padding: 0; }
  #content a { color: var(--vscode-textLink-foreground); }
  #content blockquote { border-left: 3px solid var(--vscode-textBlockQuote-border);
    margin: 0; padding-left: 10px; color: var(--vscode-textBlockQuote-foreground, inherit); }
  .streaming #content > :last-child::after { content: "▍"; opacity: 0.6; }
`;

// Runs inside the webview: it only ever sets innerHTML to what renderMarkdown produced
// (raw HTML disabled there) and posts "stop" / "copy" back.
const SCRIPT = `
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  $("stop").addEventListener("click", () => vscode.postMessage({ type: "stop" }));
  $("copy").addEventListener("click", () => vscode.postMessage({ type: "copy" }));
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (!m || m.type !== "update") { return; }
    $("title").textContent = m.title;
    $("content").innerHTML = m.html;
    document.body.className = m.phase;
    document.body.dataset.phase = m.phase;
    $("stop").hidden = !(m.phase === "waiting" || m.phase === "streaming");
    $("copy").hidden = m.html === "";
    $("cached").hidden = !m.cached;
    $("note").textContent = m.note;
    $("note").className = m.phase === "error" ? "error" : "";
  });
  vscode.postMessage({ type: "ready" });
`;

/** The whole page, showing `state`; later states arrive as `PanelUpdate` messages. */
export function panelHtml(state: PanelState, cspSource: string, nonce: string): string {
  const update = panelUpdate(state);
  const running = state.phase === "waiting" || state.phase === "streaming";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(state.title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body class="${state.phase}" data-phase="${state.phase}">
<header>
  <h1 id="title">${escapeHtml(state.title)}</h1>
  <span id="cached" class="badge" title="This answer came from the result cache"${state.cached ? "" : " hidden"}>from cache</span>
  <button id="stop"${running ? "" : " hidden"}>Stop</button>
  <button id="copy" class="secondary"${update.html === "" ? " hidden" : ""}>Copy</button>
</header>
<p id="note"${state.phase === "error" ? ' class="error"' : ""}>${escapeHtml(update.note)}</p>
<main id="content">${update.html}</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
