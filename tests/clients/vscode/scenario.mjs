// The VS Code end-to-end scenario: a real VS Code (code-server) in Debian's Chromium,
// driven by Playwright as a person would use it, with the packaged extension and the real
// qwen-lsp server and model behind it. tests/clients/test_vscode.py starts code-server,
// runs this with a spec (JSON, argv[2]), and asserts on the JSON it writes.
//
// Steps: open shop.py; right-click in `shout` -> "Ask AI to explain" -> the panel streams
// the explanation; right-click in `fetch_price` -> "Convert to async with AI" -> the diff
// preview -> Accept -> save; right-click in `receipt_lines` -> "Refactor with AI" -> Cancel
// while the model writes -> nothing applied; a wrong qwenLsp.serverPath -> one notification
// -> "Show Install Instructions"; the right path again -> ready. A screenshot after each step.
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const require = createRequire(path.join(spec.tools, "node_modules", "package.json"));
const { chromium } = require("playwright-core");

const result = { ok: false, steps: {}, screenshots: [], timings_ms: {}, log: [] };
const began = Date.now();
let currentStep = "start";
let page;

function note(message) {
  result.log.push(`${((Date.now() - began) / 1000).toFixed(1)}s [${currentStep}] ${message}`);
}

function save() {
  result.timings_ms.total = Date.now() - began;
  fs.writeFileSync(spec.result, JSON.stringify(result, null, 2));
}

async function shot(page, name) {
  const file = path.join(spec.screenshots, `vscode-${name}.png`);
  await page.screenshot({ path: file });
  result.screenshots.push(file);
}

async function step(name, fn) {
  if (spec.steps && !spec.steps.includes(name)) { // a developer's partial run
    return;
  }
  currentStep = name;
  const t0 = Date.now();
  note("begin");
  await fn();
  result.timings_ms[name] = Date.now() - t0;
  note("end");
  save();
}

async function until(what, fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The source editor's line that contains `text` (not the diff's, not another editor's). */
function line(page, text) {
  return page.locator(".editor-group-container.active .editor-instance .monaco-editor .view-line",
    { hasText: text }).first();
}

async function contextMenu(page, lineText, item, screenshot) {
  const target = line(page, lineText);
  await target.waitFor({ state: "visible", timeout: 15000 });
  // Right-click on the line's text, where a person would: inside the function.
  const box = await target.boundingBox();
  await page.mouse.click(box.x + 40, box.y + box.height / 2);
  await page.mouse.click(box.x + 40, box.y + box.height / 2, { button: "right" });
  const menuItem = page.locator(".context-view .monaco-menu .action-label", { hasText: item }).first();
  await menuItem.waitFor({ state: "visible", timeout: 10000 });
  const items = await page.locator(".context-view .monaco-menu .action-label").allInnerTexts();
  if (screenshot) {
    await shot(page, screenshot);
  }
  // VS Code ignores a click that comes right after the menu opened: hover first, as a hand would
  await menuItem.hover();
  await page.waitForTimeout(300);
  await menuItem.click();
  await menuItem.waitFor({ state: "detached", timeout: 5000 });
  return items.map((t) => t.trim()).filter(Boolean);
}

/** The explanation webview's frame (webviews are nested iframes in VS Code). */
async function panelFrame(page) {
  for (const frame of page.frames()) {
    try {
      if (await frame.$("#content") && await frame.$("#stop")) {
        return frame;
      }
    } catch {
      // a frame navigating away
    }
  }
  return undefined;
}

async function readPanel(frame) {
  return frame.evaluate(() => ({
    phase: document.body.dataset.phase,
    title: document.getElementById("title")?.textContent ?? "",
    text: document.getElementById("content")?.innerText ?? "",
    html: document.getElementById("content")?.innerHTML ?? "",
    note: document.getElementById("note")?.textContent ?? "",
    cachedShown: !document.getElementById("cached")?.hidden,
    stopShown: !document.getElementById("stop")?.hidden,
    copyShown: !document.getElementById("copy")?.hidden,
    csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? "",
  }));
}

/** A command from the command palette (F1), by its title. */
async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ timeout: 10000 });
  await input.fill(`>${title}`);
  const label = title.split(": ").pop();
  await page.locator(".quick-input-list .monaco-list-row", { hasText: label }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
}

/** Preferences: Open User Settings (JSON), replace the text, save. */
async function editUserSettings(page, settings) {
  await runCommand(page, "Preferences: Open User Settings (JSON)");
  await page.locator(".tab.active", { hasText: "settings.json" }).waitFor({ timeout: 10000 });
  await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+a");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify(settings));
  await page.keyboard.press("Control+s");
  let last = "";
  await until("settings.json saved", () => {
    try {
      last = fs.readFileSync(spec.settings, "utf8");
      return JSON.stringify(JSON.parse(last)) === JSON.stringify(settings);
    } catch {
      return false;
    }
  }, 10000).catch((error) => {
    throw new Error(`${error.message}; on disk: ${last}`);
  });
}

async function notificationTexts(page) {
  return page.locator(".notifications-toasts .notification-toast .notification-list-item-message").allInnerTexts();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: spec.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (error) => note(`page error: ${error.message}`));

    await step("workbench", async () => {
      await page.goto(`${spec.url}/?folder=${encodeURIComponent(spec.workspace)}`);
      await page.locator(".monaco-workbench").waitFor({ timeout: spec.workbench_timeout_ms });
      const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: "shop.py" }).first();
      await row.waitFor({ timeout: spec.workbench_timeout_ms });
      await row.click();
      await line(page, "def shout").waitFor({ timeout: 20000 });
      // the extension activated on Python, started the server, and the model is loaded
      const item = page.locator('.statusbar-item[aria-label^="Qwen LSP: "]').first();
      const states = [];
      await until("the status bar to say ready", async () => {
        const label = await item.getAttribute("aria-label", { timeout: 1000 }).catch(() => null);
        if (label && states[states.length - 1] !== label) {
          states.push(label);
        }
        if (label === "Qwen LSP: error") {
          throw new Error(`the status bar says error; notifications: ${await notificationTexts(page)}`);
        }
        return label === "Qwen LSP: ready";
      }, spec.ready_timeout_ms, 200);
      // the model's path and sha256, as the status bar's tooltip and "Qwen: Show model status" say
      await runCommand(page, "Qwen: Show model status");
      const statusToast = page.locator(".notifications-toasts .notification-toast", { hasText: "sha256" }).first();
      await statusToast.waitFor({ timeout: 15000 });
      const modelStatus = (await statusToast.innerText()).replace(/\s+/g, " ");
      await statusToast.locator(".codicon-notifications-clear, .codicon-close").first().click().catch(() => undefined);
      result.steps.workbench = { states, modelStatus };
    });

    await step("explain", async () => {
      const menu = await contextMenu(page, 'return "¡" + text.upper()', "Ask AI to explain", "context-menu");
      const seen = { phases: [], lengths: [] };
      const frame = await until("the explanation panel", () => panelFrame(page), 20000);
      const final = await until("the explanation to finish", async () => {
        const state = await readPanel(frame);
        if (seen.phases[seen.phases.length - 1] !== state.phase) {
          seen.phases.push(state.phase);
        }
        if (state.phase === "streaming") {
          seen.lengths.push(state.text.length);
          if (!seen.streamShot && state.text.length > 40) {
            seen.streamShot = true;
            seen.midway = state;
            await shot(page, "explain-streaming");
          }
        }
        return state.phase !== "waiting" && state.phase !== "streaming" ? state : undefined;
      }, spec.explain_timeout_ms, 150);
      const tabs = await page.locator(".tab .label-name").allInnerTexts();
      await shot(page, "explain-panel");
      // the same function again: from the result cache, in the same panel
      await page.locator(".tab", { hasText: "shop.py" }).first().click();
      await contextMenu(page, 'return "¡" + text.upper()', "Ask AI to explain");
      const again = await until("the cached explanation", async () => {
        const state = await readPanel(frame);
        return state.phase === "done" && state.cachedShown ? state : undefined;
      }, 20000, 100);
      const panels = await page.locator(".tab", { hasText: "Explain:" }).count();
      result.steps.explain = { menu, ...seen, final, tabs, again, panels };
    });

    await step("async", async () => {
      // back to the source editor (the panel is beside it)
      await page.locator(".tab", { hasText: "shop.py" }).first().click();
      const menu = await contextMenu(page, "time.sleep(delay)", "Convert to async with AI");
      const accept = page.locator(".notifications-toasts .notification-toast .monaco-button", { hasText: "Accept" });
      await accept.first().waitFor({ timeout: spec.async_timeout_ms });
      const diff = page.locator(".monaco-diff-editor");
      await diff.first().waitFor({ timeout: 10000 });
      await page.waitForTimeout(500); // the diff renders its decorations
      const messages = await notificationTexts(page);
      const diffTitle = (await page.locator(".tab.active .label-name").first().innerText()).trim();
      // what the diff shows (both sides, inline or side by side)
      const shown = (await diff.first().innerText()).replace(/\u00a0/g, " ");
      await shot(page, "refactor-preview");
      await accept.first().click();
      await diff.first().waitFor({ state: "detached", timeout: 10000 });
      await line(page, "async def fetch_price").waitFor({ timeout: 10000 });
      await line(page, "await asyncio.sleep").click();
      await page.keyboard.press("Control+s");
      const onDisk = await until("the saved file", () => {
        const text = fs.readFileSync(spec.file, "utf8");
        return text.includes("async def fetch_price") ? text : undefined;
      }, 10000);
      await page.waitForTimeout(700); // the server's note about sync callers
      const after = await notificationTexts(page);
      await shot(page, "async-applied");
      result.steps.async = { menu, messages, diffTitle, previewText: shown, after, onDisk };
      // dismiss the toasts so that the next step's notification is the only one
      await page.keyboard.press("Escape");
    });

    await step("refactor_stop", async () => {
      const before = fs.readFileSync(spec.file, "utf8");
      const menu = await contextMenu(page, "def receipt_lines", "Refactor with AI");
      const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "Refactoring" }).first();
      await toast.waitFor({ timeout: 15000 });
      // Stop while the model is writing: the progress says how far it got.
      const progressSeen = [];
      const writing = await until("the model to start writing", async () => {
        const text = await toast.innerText().catch(() => "");
        if (text && progressSeen[progressSeen.length - 1] !== text) {
          progressSeen.push(text);
          note(`progress: ${text.replace(/\s+/g, " ")}`);
        }
        return /writing… \d+ line/.test(text) ? text : undefined;
      }, spec.refactor_timeout_ms, 50);
      const statusWhileWriting = await page.locator('.statusbar-item[aria-label^="Qwen LSP: "]').first()
        .getAttribute("aria-label");
      await shot(page, "refactor-stopping");
      await toast.locator(".monaco-button", { hasText: "Cancel" }).first().click();
      const stoppedAt = Date.now();
      await toast.waitFor({ state: "detached", timeout: 10000 });
      // for a few seconds: no preview opens, the file stays as it was
      await page.waitForTimeout(3000);
      const previews = await page.locator(".monaco-diff-editor").count();
      const accepts = await page.locator(".notifications-toasts .monaco-button", { hasText: "Accept" }).count();
      const dirty = await page.locator(".tab.dirty", { hasText: "shop.py" }).count();
      await shot(page, "refactor-stopped");
      result.steps.refactor_stop = {
        menu, writing: writing.split("\n").filter(Boolean), statusWhileWriting, closedAfterMs: Date.now() - stoppedAt - 3000,
        previews, accepts, dirty, unchanged: fs.readFileSync(spec.file, "utf8") === before,
      };
    });

    await step("explain_stop", async () => {
      // Stop in the panel while the explanation streams: the request is cancelled, the
      // panel says so, and the server goes idle (the status bar is ready again, not busy).
      await page.locator(".tab", { hasText: "shop.py" }).first().click();
      await contextMenu(page, "summary = [", "Ask AI to explain");
      const frame = await until("the explanation panel", () => panelFrame(page), 20000);
      const streaming = await until("the explanation to stream", async () => {
        const state = await readPanel(frame);
        return state.phase === "streaming" && state.text.length > 20 ? state : undefined;
      }, spec.explain_timeout_ms, 100);
      await frame.click("#stop");
      const stoppedAt = Date.now();
      const final = await until("the panel to say stopped", async () => {
        const state = await readPanel(frame);
        return state.phase === "cancelled" ? state : undefined;
      }, 10000, 100);
      const stopMs = Date.now() - stoppedAt;
      await until("the server to be idle", async () => (await page.locator('.statusbar-item[aria-label^="Qwen LSP: "]')
        .first().getAttribute("aria-label")) === "Qwen LSP: ready", 20000, 200);
      const idleMs = Date.now() - stoppedAt;
      await shot(page, "explain-stopped");
      result.steps.explain_stop = { streaming, final, stopMs, idleMs };
    });

    await step("settings_live", async () => {
      // A setting changed while the server runs takes effect at once: with maxSpanLines 3,
      // explaining the 19-line receipt_lines is refused (the panel says why), no restart.
      const settings = JSON.parse(fs.readFileSync(spec.settings, "utf8"));
      await editUserSettings(page, { ...settings, "qwenLsp.maxSpanLines": 3 });
      await page.waitForTimeout(1000); // didChangeConfiguration, then the server pulls its settings
      await page.locator(".tab", { hasText: "shop.py" }).first().click();
      await contextMenu(page, "subtotal = 0", "Ask AI to explain");
      const frame = await until("the explanation panel", () => panelFrame(page), 20000);
      const final = await until("the refusal", async () => {
        const state = await readPanel(frame);
        return state.phase === "error" ? state : undefined;
      }, 30000, 150);
      const panels = await page.locator(".tab", { hasText: "Explain:" }).count();
      await editUserSettings(page, settings);
      result.steps.settings_live = { final, panels };
    });

    await step("server_path", async () => {
      // A wrong qwenLsp.serverPath, typed into settings.json as a user would: the client
      // restarts, cannot start, and says so once, with the two ways out. Then the right one.
      const settingsText = fs.readFileSync(spec.settings, "utf8");
      const settings = JSON.parse(settingsText);
      const statusLabel = () => page.locator('.statusbar-item[aria-label^="Qwen LSP: "]').first()
        .getAttribute("aria-label", { timeout: 1000 }).catch(() => null);
      await editUserSettings(page, { ...settings, "qwenLsp.serverPath": "/nonexistent/qwen-lsp" });
      const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "cannot start its server" });
      await toast.first().waitFor({ timeout: 30000 });
      await page.waitForTimeout(1500); // a second notification would show up by now
      const messages = (await notificationTexts(page)).filter((m) => m.includes("Qwen LSP"));
      const buttons = await toast.first().locator(".monaco-button").allInnerTexts();
      const status = await statusLabel();
      await toast.first().locator(".monaco-button", { hasText: "Show Install Instructions" }).click();
      const instructions = await until("the install instructions", async () => {
        const text = await page.locator(".editor-group-container.active .monaco-editor .view-lines").first()
          .innerText().catch(() => "");
        const flat = text.replace(/\s+/g, " "); // the editor wraps long lines
        return flat.includes("pip install") ? flat : undefined;
      }, 10000);
      await shot(page, "server-missing");
      await editUserSettings(page, settings);
      await until("the server to be back", async () => (await statusLabel()) === "Qwen LSP: ready", 60000, 200);
      result.steps.server_path = { messages, buttons, status, instructions };
    });

    result.ok = true;
  } catch (error) {
    if (page) {
      result.notifications = await notificationTexts(page).catch(() => []);
      await shot(page, `failed-${currentStep}`).catch(() => undefined);
    }
    throw error;
  } finally {
    await browser.close().catch(() => undefined);
  }
}

main().then(() => save()).catch(async (error) => {
  result.ok = false;
  result.error = `${currentStep}: ${error && error.stack ? error.stack : String(error)}`;
  save();
}).finally(() => process.exit(0));
