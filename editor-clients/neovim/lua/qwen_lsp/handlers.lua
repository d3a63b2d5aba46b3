--- The qwen_lsp client's own handlers for two server notifications. Each does its part
--- and then calls Neovim's handler of the moment (vim.lsp.handlers[...]), so that other
--- plugins' wrappers and vim.lsp.status() keep working.
---
--- $/progress: reports on a token the plugin passed as workDoneToken go to that request's
--- watcher (the explanation float fills in from them; each report's `message` is the
--- whole text so far). What reaches vim.lsp.status(), and so the statusline, is a short
--- count ("57 words so far") instead of the streamed text.
---
--- window/showMessage: while a plugin command runs, the server's messages are held; when
--- it ends, those repeating what the plugin already showed (its error, its notes) are
--- dropped and the rest shown.
local M = {}

--- The plugin's own tokens: what to do with each progress value, and how to count the
--- streamed text for the statusline ("words" for an explanation, "lines" for code).
--- @type table<string|integer, { on_progress: fun(value: table), unit: "words"|"lines" }>
M.watchers = {}

--- client id -> showMessage notifications held while plugin commands run on it
--- @type table<integer, { active: integer, messages: table[], shown: string[] }>
local held = {}

--- The short form of a streamed report for the statusline.
--- @param message string the whole text so far
--- @param unit "words"|"lines"
--- @return string
function M.summary(message, unit)
  local count = unit == "words" and select(2, message:gsub("%S+", ""))
    or select(2, message:gsub("\n", "")) + 1
  local noun = unit == "words" and "word" or "line"
  return ("%d %s%s so far"):format(count, noun, count == 1 and "" or "s")
end

--- A report on a token of someone else's: kept unless it is long (streamed text).
--- @param message string
--- @return string
local function shorten(message)
  if message:find("\n") or vim.fn.strchars(message) > 60 then
    return M.summary(message, "lines")
  end
  return message
end

--- Per-client $/progress handler.
--- @type lsp.Handler
function M.progress(err, params, ctx, config)
  local value = type(params) == "table" and params.value or nil
  if type(value) == "table" then
    local watcher = M.watchers[params.token]
    if watcher then
      local ok, problem = pcall(watcher.on_progress, value)
      if not ok then
        vim.notify("qwen-lsp: " .. tostring(problem), vim.log.levels.ERROR)
      end
    end
    if type(value.message) == "string" and value.kind == "report" then
      local short = watcher and M.summary(value.message, watcher.unit) or shorten(value.message)
      params = { token = params.token, value = vim.tbl_extend("force", value, { message = short }) }
    end
  end
  return vim.lsp.handlers["$/progress"](err, params, ctx, config)
end

--- The loaded buffers a WorkspaceEdit changes, with their changedtick, and whether it
--- has any text edit at all.
--- @param edit table
--- @return table<integer, integer> ticks
--- @return boolean any
local function edited_buffers(edit)
  local ticks, any = {}, false
  local function note(uri, edits)
    if type(edits) == "table" and #edits > 0 then
      any = true
      local bufnr = vim.uri_to_bufnr(uri)
      if vim.api.nvim_buf_is_loaded(bufnr) then
        ticks[bufnr] = vim.api.nvim_buf_get_changedtick(bufnr)
      end
    end
  end
  for uri, edits in pairs(type(edit.changes) == "table" and edit.changes or {}) do
    note(uri, edits)
  end
  for _, change in ipairs(type(edit.documentChanges) == "table" and edit.documentChanges or {}) do
    if type(change.textDocument) == "table" then
      note(change.textDocument.uri, change.edits)
    end
  end
  return ticks, any
end

--- Per-client workspace/applyEdit handler. Neovim answers `applied = true` even when it
--- applied nothing (the user said No to "Apply all changes?", or the version was
--- stale); here the answer says what happened to the buffers.
--- @type lsp.Handler
function M.apply_edit(err, params, ctx, config)
  local edit = type(params) == "table" and type(params.edit) == "table" and params.edit or {}
  local ticks, any = edited_buffers(edit)
  local result, error_ = vim.lsp.handlers["workspace/applyEdit"](err, params, ctx, config)
  if type(result) == "table" and result.applied and any and next(ticks) ~= nil then
    for bufnr, tick in pairs(ticks) do
      if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
        return result, error_
      end
    end
    return { applied = false,
             failureReason = "Neovim applied nothing (declined, or the document changed)" }
  end
  return result, error_
end

--- Per-client window/showMessage handler.
--- @type lsp.Handler
function M.show_message(err, params, ctx, config)
  local state = held[ctx.client_id]
  if state and state.active > 0 then
    table.insert(state.messages, { err, params, ctx, config })
    return vim.NIL
  end
  return vim.lsp.handlers["window/showMessage"](err, params, ctx, config)
end

--- A plugin request on this client started: hold its messages.
--- @param client_id integer
function M.hold(client_id)
  local state = held[client_id] or { active = 0, messages = {}, shown = {} }
  state.active = state.active + 1
  held[client_id] = state
end

--- A plugin request on this client ended, having shown `shown` (texts the server's
--- messages may repeat). Once none runs, the held messages that say something else are
--- shown.
--- @param client_id integer
--- @param shown string[]
function M.release(client_id, shown)
  local state = held[client_id]
  if not state then
    return
  end
  vim.list_extend(state.shown, shown)
  state.active = state.active - 1
  if state.active > 0 then
    return
  end
  held[client_id] = nil
  for _, entry in ipairs(state.messages) do
    local message = type(entry[2]) == "table" and entry[2].message or nil
    local repeated = false
    for _, text in ipairs(state.shown) do
      if type(message) == "string" and text ~= "" and message:find(text, 1, true) then
        repeated = true
        break
      end
    end
    if not repeated then
      vim.lsp.handlers["window/showMessage"](unpack(entry, 1, 4))
    end
  end
end

return M
