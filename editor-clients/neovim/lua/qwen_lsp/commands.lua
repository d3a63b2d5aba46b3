--- :QwenExplain, :QwenRefactor, :QwenAsync and :QwenCancel: workspace/executeCommand with
--- the server's commands and one argument {textDocument = {uri, version}, range}
--- (INTERFACE.md), positions in the client's offset encoding.
local api = vim.api
local handlers = require("qwen_lsp.handlers")
local float = require("qwen_lsp.float")

local M = {}

M.COMMANDS = {
  explain = "qwenLsp.explain",
  refactor = "qwenLsp.refactor",
  async = "qwenLsp.convertToAsync",
}
local NAMES = { explain = "explain", refactor = "refactor", async = "convert to async" }

--- @class qwen_lsp.Request
--- @field action "explain"|"refactor"|"async"
--- @field client vim.lsp.Client
--- @field id integer? the request id (nil until sent)
--- @field token string the workDoneToken
--- @field bufnr integer
--- @field view qwen_lsp.View? the explanation window
--- @field cancelled boolean
--- @field started integer hrtime

--- The running requests, by "client_id:request_id".
--- @type table<string, qwen_lsp.Request>
M.active = {}

local counter = 0

--- @param level integer
--- @param message string
local function notify(message, level)
  vim.notify(message, level, { title = "qwen-lsp" })
end

--- @param client_id integer
--- @param id integer
--- @return string
local function key(client_id, id)
  return client_id .. ":" .. id
end

--- The qwen_lsp client attached to a buffer.
--- @param bufnr integer
--- @return vim.lsp.Client?
function M.client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = require("qwen_lsp").name })[1]
end

--- Why no qwen_lsp client serves a buffer, and what to do about it.
--- @param bufnr integer
--- @return string
function M.why_no_client(bufnr)
  local options = require("qwen_lsp").options
  local filetype = vim.bo[bufnr].filetype
  if not options then
    return "qwen-lsp: the plugin is not set up: call require(\"qwen_lsp\").setup({ ... })"
  end
  if not vim.list_contains(options.filetypes, filetype) then
    return ("qwen-lsp: the server is not enabled for filetype %q (the setup() option "
            .. "filetypes)"):format(filetype)
  end
  if type(options.cmd) == "table" and vim.fn.executable(options.cmd[1]) == 0 then
    return ("qwen-lsp: the server command %q is not executable: install the server "
            .. "(python3 -m venv .venv && .venv/bin/pip install .) and set cmd; see "
            .. ":checkhealth qwen_lsp"):format(tostring(options.cmd[1]))
  end
  return "qwen-lsp: the server is not running for this buffer (it failed to start or "
    .. "stopped): see :checkhealth qwen_lsp and :LspLog"
end

--- An LSP position for a (0-based row, byte column) of the buffer.
--- @param bufnr integer
--- @param row integer
--- @param col integer
--- @param encoding string
--- @return lsp.Position
local function position(bufnr, row, col, encoding)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  col = math.min(col, #line)
  return { line = row, character = vim.str_utfindex(line, encoding, col, false) }
end

--- The range a command works on: a characterwise visual selection, the lines of a
--- :{range}, or (no range) an empty range at the cursor, meaning "the function here".
--- @param bufnr integer
--- @param encoding string
--- @param o vim.api.keyset.create_user_command.command_args?
--- @return lsp.Range
function M.range(bufnr, encoding, o)
  if o and o.range and o.range > 0 then
    local first, last = o.line1, o.line2
    local from = api.nvim_buf_get_mark(bufnr, "<")
    local to = api.nvim_buf_get_mark(bufnr, ">")
    if vim.fn.visualmode() == "v" and from[1] == first and to[1] == last then
      -- '> is the first byte of the last selected character: end after all of it
      local line = api.nvim_buf_get_lines(bufnr, last - 1, last, false)[1] or ""
      local stop = math.min(to[2], #line)
      if stop < #line then
        stop = stop + 1 + vim.str_utf_end(line, stop + 1)
      end
      return { start = position(bufnr, first - 1, from[2], encoding),
               ["end"] = position(bufnr, last - 1, stop, encoding) }
    end
    local line = api.nvim_buf_get_lines(bufnr, last - 1, last, false)[1] or ""
    return { start = position(bufnr, first - 1, 0, encoding),
             ["end"] = position(bufnr, last - 1, #line, encoding) }
  end
  local cursor = api.nvim_win_get_cursor(0)
  local here = position(bufnr, cursor[1] - 1, cursor[2], encoding)
  return { start = here, ["end"] = here }
end

--- The request is over: forget it and let the held server messages through.
--- @param request qwen_lsp.Request
--- @param shown string[]
local function forget(request, shown)
  if request.id then
    M.active[key(request.client.id, request.id)] = nil
  end
  handlers.watchers[request.token] = nil
  handlers.release(request.client.id, shown)
end

--- @param request qwen_lsp.Request
--- @param err lsp.ResponseError?
--- @param result table?
local function finish(request, err, result)
  if request.cancelled then
    -- An answer other than RequestCancelled crossed the cancel. Nothing is shown of it,
    -- but a rewrite may have been applied already (the server sends the edit first).
    forget(request, err and { tostring(err.message or err) } or {})
    if not err and type(result) == "table" and result.applied then
      notify(("qwen-lsp: the %s was applied before the cancel arrived (undo with u)")
             :format(NAMES[request.action]), vim.log.levels.WARN)
    else
      notify(("qwen-lsp: %s cancelled%s"):format(NAMES[request.action],
             err and (" (the server said: " .. tostring(err.message or err) .. ")") or ""),
             vim.log.levels.INFO)
    end
    return
  end
  if err then
    local message = tostring(err.message or err)
    forget(request, { message })
    float.close(request.view)
    if not message:find("^qwen%-lsp") then
      message = "qwen-lsp: " .. NAMES[request.action] .. " failed: " .. message
    end
    notify(message, vim.log.levels.ERROR)
    return
  end
  result = type(result) == "table" and result or {}
  if request.action == "explain" then
    forget(request, {})
    if request.view then
      float.set_text(request.view, result.markdown or "", "done")
      if result.cached then
        float.set_title(request.view, request.view.title .. " (cached)")
      end
    end
    return
  end
  local notes = type(result.notes) == "table" and result.notes or {}
  forget(request, notes)
  local head
  if result.applied then
    head = ("qwen-lsp: %s applied%s"):format(NAMES[request.action],
                                             result.cached and " (cached answer)" or "")
  elseif #notes == 0 then
    head = ("qwen-lsp: %s: nothing to change"):format(NAMES[request.action])
  else
    head = ("qwen-lsp: %s not applied"):format(NAMES[request.action])
  end
  local lines = { head }
  for _, note in ipairs(notes) do
    table.insert(lines, "• " .. note)
  end
  notify(table.concat(lines, "\n"), vim.log.levels.INFO)
end

--- The progress of one request: the explanation window fills in from its reports.
--- @param request qwen_lsp.Request
--- @return fun(value: table)
local function watcher(request)
  return function(value)
    local view = request.view
    if not view or request.cancelled then
      return
    end
    if value.kind == "begin" and type(value.title) == "string" then
      float.set_title(view, value.title)
    elseif value.kind == "report" and type(value.message) == "string" and value.message ~= "" then
      float.set_text(view, value.message, "streaming")
    end
  end
end

--- Send a server command for a buffer, with the plugin's progress token; an
--- explanation opens a window at the cursor that fills in as it streams.
--- @param action "explain"|"refactor"|"async"
--- @param client vim.lsp.Client
--- @param bufnr integer
--- @param argument table {textDocument = {uri, version?}, range}
function M.send(action, client, bufnr, argument)
  local options = require("qwen_lsp").options or require("qwen_lsp").resolve()
  counter = counter + 1
  --- @type qwen_lsp.Request
  local request = {
    action = action,
    client = client,
    token = ("qwen_lsp.nvim:%d:%d"):format(vim.fn.getpid(), counter),
    bufnr = bufnr,
    cancelled = false,
    started = vim.uv.hrtime(),
  }
  if action == "explain" then
    request.view = float.open("Qwen: explain", options.float, function()
      M.cancel_request(request)
    end)
  end
  handlers.watchers[request.token] = {
    on_progress = watcher(request),
    unit = action == "explain" and "words" or "lines",
  }
  handlers.hold(client.id)
  local params = { command = M.COMMANDS[action], arguments = { argument },
                   workDoneToken = request.token }
  local ok, id = client:request("workspace/executeCommand", params, function(err, result)
    finish(request, err, result)
  end, bufnr)
  if not ok or not id then
    forget(request, {})
    float.close(request.view)
    notify("qwen-lsp: the server is not running (it stopped or failed to start): "
           .. "see :checkhealth qwen_lsp and :LspLog", vim.log.levels.ERROR)
    return
  end
  request.id = id
  M.active[key(client.id, id)] = request
end

--- Run a server command on the current buffer (the user commands).
--- @param action "explain"|"refactor"|"async"
--- @param o vim.api.keyset.create_user_command.command_args?
function M.run(action, o)
  local bufnr = api.nvim_get_current_buf()
  local client = M.client_for(bufnr)
  if not client then
    notify(M.why_no_client(bufnr), vim.log.levels.ERROR)
    return
  end
  M.send(action, client, bufnr, {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = vim.lsp.util.buf_versions[bufnr] },
    range = M.range(bufnr, client.offset_encoding, o),
  })
end

--- Client-side handlers of the server's commands, for vim.lsp.config's `commands`: a
--- code action chosen in vim.lsp.buf.code_action() runs through the plugin too (its
--- explanation window, notes and errors), with the action's own argument.
--- @return table<string, fun(command: lsp.Command, ctx: table)>
function M.code_action_handlers()
  local result = {}
  for action, command in pairs(M.COMMANDS) do
    result[command] = function(cmd, ctx)
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      local argument = type(cmd.arguments) == "table" and cmd.arguments[1] or nil
      if client and type(argument) == "table" then
        M.send(action, client, ctx.bufnr, argument)
      end
    end
  end
  return result
end

--- Cancel one request ($/cancelRequest), if it is still running.
--- @param request qwen_lsp.Request
--- @return boolean cancelled
function M.cancel_request(request)
  if request.cancelled or not request.id or not M.active[key(request.client.id, request.id)] then
    return false
  end
  request.cancelled = true
  request.client:cancel_request(request.id)
  float.close(request.view)
  return true
end

--- Cancel every running request. The server stops the model and answers
--- RequestCancelled; nothing is applied.
function M.cancel()
  local count = 0
  for _, request in pairs(M.active) do
    if M.cancel_request(request) then
      count = count + 1
    end
  end
  if count == 0 then
    notify("qwen-lsp: nothing to cancel", vim.log.levels.WARN)
  end
end

local group = api.nvim_create_augroup("qwen_lsp.requests", { clear = true })

-- A server that stops (or crashes) answers nothing more: end its requests here.
api.nvim_create_autocmd("LspDetach", {
  group = group,
  callback = function(args)
    local client_id = args.data and args.data.client_id
    for _, request in pairs(M.active) do
      if request.client.id == client_id and request.bufnr == args.buf then
        forget(request, {})
        float.close(request.view)
        if not request.cancelled then
          notify(("qwen-lsp: the server stopped during the %s"):format(NAMES[request.action]),
                 vim.log.levels.ERROR)
        end
      end
    end
  end,
})

-- Neovim does not call a request's handler when the answer is RequestCancelled, but it
-- marks the request "complete" (LspRequest) first. The handler of any other answer is
-- already queued behind that event, so a request still active on the next turn of the
-- loop was answered with RequestCancelled.
api.nvim_create_autocmd("LspRequest", {
  group = group,
  callback = function(args)
    local data = args.data or {}
    if not (data.request and data.request.type == "complete") then
      return
    end
    local k = key(data.client_id, data.request_id)
    if not M.active[k] then
      return
    end
    vim.schedule(function()
      local request = M.active[k]
      if request then
        forget(request, {})
        float.close(request.view)
        notify(("qwen-lsp: %s cancelled"):format(NAMES[request.action]), vim.log.levels.INFO)
      end
    end)
  end,
})

return M
