/**
 * The server's settings as the extension sends them (section `qwenLsp`), built from
 * VS Code's configuration. Pure: no `vscode` import, so it is unit-tested directly.
 */

/** Every server setting of the public interface, as dotted keys under `qwenLsp`. */
export const SERVER_SETTING_KEYS = [
  "modelPath",
  "threads",
  "contextSize",
  "maxOutputTokens",
  "temperature",
  "explanationDisplay",
  "explanationLanguage",
  "confirmEdits",
  "cache.enabled",
  "cache.directory",
  "cache.maxMegabytes",
  "promptsDirectory",
  "maxSpanLines",
  "maxFileBytes",
  "prefill",
  "backend",
  "openai.baseUrl",
  "openai.model",
  "openai.apiKeyEnv",
  "openai.timeoutSeconds",
] as const;

/** Settings only the extension reads; never sent to the server. */
export const CLIENT_SETTING_KEYS = ["serverPath", "trace.server"] as const;

export type SettingGetter = (key: string) => unknown;
export type ServerSettings = Record<string, unknown>;

/**
 * The `qwenLsp` object for `workspace/configuration`: nested (`{"cache": {...}}`), with
 * unset (`null`/`undefined`) values left out so that the server uses its own default.
 */
export function serverSettings(get: SettingGetter): ServerSettings {
  const result: ServerSettings = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = get(key);
    if (value === undefined || value === null) {
      continue;
    }
    const dot = key.indexOf(".");
    if (dot < 0) {
      result[key] = value;
    } else {
      const group = key.slice(0, dot);
      const inner = (result[group] ?? {}) as Record<string, unknown>;
      inner[key.slice(dot + 1)] = value;
      result[group] = inner;
    }
  }
  return result;
}

/**
 * initializationOptions: the same settings, and explanations shown by this extension's
 * panel (unless the user asked the server to show them too).
 */
export function initializationOptions(get: SettingGetter): ServerSettings {
  const settings = serverSettings(get);
  if (settings.explanationDisplay !== "server") {
    settings.explanationDisplay = "client";
  }
  return settings;
}

/** Whether a configuration change touches what the server reads. */
export function affectsServer(affects: (section: string) => boolean): boolean {
  return SERVER_SETTING_KEYS.some((key) => affects(`qwenLsp.${key}`));
}
