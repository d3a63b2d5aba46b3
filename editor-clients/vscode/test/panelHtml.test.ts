import assert from "node:assert/strict";
import { test } from "node:test";
import { contentSecurityPolicy, makeNonce, panelHtml, panelUpdate, renderMarkdown } from "../src/core/panelHtml";

const CSP_SOURCE = "https://*.vscode-cdn.net";

test("the CSP allows no remote content and only this page's nonce for scripts and styles", () => {
  const csp = contentSecurityPolicy(CSP_SOURCE, "abc123");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
  assert.match(csp, /style-src 'nonce-abc123'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!\*\.vscode-cdn)/);
});

test("the page: CSP meta first, every script and style carries the nonce, buttons present", () => {
  const nonce = makeNonce();
  const html = panelHtml({ title: "Explanation of shout", markdown: "", phase: "waiting", cached: false },
    CSP_SOURCE, nonce);
  assert.ok(html.indexOf("Content-Security-Policy") < html.indexOf("<style"));
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  const styles = html.match(/<style[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  for (const tag of [...scripts, ...styles]) {
    assert.ok(tag.includes(`nonce="${nonce}"`), tag);
  }
  assert.doesNotMatch(html, /\son\w+="/); // no inline event handlers (the CSP would block them)
  assert.match(html, /<button id="stop">Stop<\/button>/);
  assert.match(html, /id="copy"[^>]*hidden/); // nothing to copy yet
  assert.match(html, /id="cached"[^>]*hidden/);
});

test("nonces differ and are safe in an attribute", () => {
  const a = makeNonce();
  assert.notEqual(a, makeNonce());
  assert.match(a, /^[A-Za-z0-9]{16,}$/);
});

test("Markdown renders; raw HTML and script URLs in the model's text are not run", () => {
  const html = renderMarkdown("**Purpose:** adds `a`\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1))");
  assert.match(html, /<strong>Purpose:<\/strong> adds <code>a<\/code>/);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.doesNotMatch(html, /href="javascript:/);
});

test("the title is escaped; updates carry the phase and the cached marker", () => {
  const html = panelHtml({ title: "Explanation of <b>", markdown: "x", phase: "done", cached: true }, CSP_SOURCE, "n");
  assert.match(html, /<h1 id="title">Explanation of &lt;b&gt;<\/h1>/);
  assert.doesNotMatch(html, /id="cached"[^>]*hidden/);
  assert.match(html, /<button id="stop" hidden>/);
  const update = panelUpdate({ title: "t", markdown: "# Hi", phase: "streaming", cached: false, note: "n" });
  assert.deepEqual(update, { type: "update", title: "t", html: "<h1>Hi</h1>\n", phase: "streaming", cached: false, note: "n" });
});

test("theme-following colours: VS Code CSS variables, no fixed colours", () => {
  const html = panelHtml({ title: "t", markdown: "", phase: "waiting", cached: false }, CSP_SOURCE, "n");
  assert.match(html, /var\(--vscode-editor-background\)/);
  assert.match(html, /var\(--vscode-foreground\)/);
  assert.doesNotMatch(html, /#[0-9a-fA-F]{3,6}\b|rgb\(/);
});
