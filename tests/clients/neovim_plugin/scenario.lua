-- A user session in a real Neovim with the qwen_lsp plugin (set up by init.lua) against
-- the real server and model. The steps to run come from the spec; each records what it
-- saw, and tests/clients/test_neovim_plugin.py asserts on that.
--
--   nvim --headless -u init.lua -i NONE -c "luafile scenario.lua"
--
-- Inputs: the JSON file named by $QWEN_LSP_TEST_SPEC. Output: JSON at spec.result.
-- Exit 0, or non-zero with result.error set when a step could not be done.
--
-- What is observed, and how (nothing here changes what the plugin does):
--   * the requests the plugin sends and their answers: the client's request method,
--     wrapped after the client attaches;
--   * $/progress as Neovim saw it, with the explanation window's text at that moment:
--     the LspProgress autocmd (fired by Neovim's handler, which the plugin's calls);
--   * vim.notify, workspace/applyEdit, window/showDocument, window/showMessage: wrapped.

local uv = vim.uv
local api = vim.api

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local spec = vim.json.decode(read_file(assert(vim.env.QWEN_LSP_TEST_SPEC,
                                              "QWEN_LSP_TEST_SPEC is not set")))
local started = uv.hrtime()
local function elapsed_ms()
  return math.floor((uv.hrtime() - started) / 1e6)
end

local out = {
  ok = false,
  nvim_version = tostring(vim.version()),
  notifications = {},   -- vim.notify calls
  messages = {},        -- window/showMessage that reached Neovim's handler
  shown_documents = {}, -- window/showDocument requests
  applied_edits = {},   -- workspace/applyEdit requests
  requests = {},        -- the client's requests: method, params, answer
  progress = {},        -- $/progress as seen by LspProgress
  timings_ms = {},
  steps = {},
}

local function write_out()
  local f = assert(io.open(spec.result, "wb"))
  f:write(vim.json.encode(out))
  f:close()
end

local function wait_for(what, timeout_ms, condition)
  if not vim.wait(timeout_ms, condition, 20) then
    error(string.format("timed out after %.0f s waiting for %s", timeout_ms / 1000, what), 0)
  end
end

local notify = vim.notify
vim.notify = function(message, level, opts)
  table.insert(out.notifications, { message = message, level = level, at_ms = elapsed_ms() })
  return notify(message, level, opts)
end

-- Neovim asks before applying edits the server marks needsConfirmation (confirmEdits):
-- vim.fn.confirm(), answered here with out.confirm_answer (1 = Yes, 2 = No).
out.confirmations = {}
out.confirm_answer = 1
local confirm = vim.fn.confirm
vim.fn.confirm = function(message, choices, default, kind)
  if choices == "&Yes\n&No" then
    table.insert(out.confirmations, { message = message, answer = out.confirm_answer })
    return out.confirm_answer
  end
  return confirm(message, choices, default, kind)
end

local function wrap(method, record)
  local original = assert(vim.lsp.handlers[method], "no default handler for " .. method)
  vim.lsp.handlers[method] = function(err, params, ctx, config)
    record(params)
    return original(err, params, ctx, config)
  end
end
wrap("window/showDocument", function(params)
  table.insert(out.shown_documents, { uri = params.uri })
end)
wrap("window/showMessage", function(params)
  table.insert(out.messages, { type = params.type, message = params.message })
end)
wrap("workspace/applyEdit", function(params)
  table.insert(out.applied_edits, { label = params.label, at_ms = elapsed_ms() })
end)

--- The explanation window, if one is open: its window, buffer and text.
local function explanation_window()
  for _, win in ipairs(api.nvim_list_wins()) do
    local buf = api.nvim_win_get_buf(win)
    if vim.b[buf].qwen_lsp_explanation ~= nil then
      local config = api.nvim_win_get_config(win)
      return {
        win = win,
        floating = config.relative ~= nil and config.relative ~= "",
        filetype = vim.bo[buf].filetype,
        state = vim.b[buf].qwen_lsp_explanation,
        text = table.concat(api.nvim_buf_get_lines(buf, 0, -1, false), "\n"),
        title = config.title,
        height = config.height,
      }
    end
  end
  return nil
end

api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    local params = args.data.params
    local value = params.value
    local view = explanation_window()
    table.insert(out.progress, {
      token = params.token,
      kind = value.kind,
      title = value.title,
      message = value.message,
      float_text = view and view.text or nil,
      float_state = view and view.state or nil,
      lsp_status = vim.lsp.status(),
      at_ms = elapsed_ms(),
    })
  end,
})

local buf, win, client

--- Record the client's requests (the plugin's and the scenario's own) and answers.
local function observe_requests()
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    local entry = { method = method, params = params, at_ms = elapsed_ms() }
    table.insert(out.requests, entry)
    local wrapped = handler and function(err, result, ctx, config)
      entry.answered_ms = elapsed_ms()
      entry.err = err
      entry.result = result
      return handler(err, result, ctx, config)
    end
    local ok, id = request(self, method, params, wrapped, bufnr)
    entry.id = id
    return ok, id
  end
end

local function last_command(command)
  for i = #out.requests, 1, -1 do
    local entry = out.requests[i]
    if entry.method == "workspace/executeCommand" and entry.params.command == command then
      return entry
    end
  end
  error("the plugin sent no " .. command, 0)
end

local function notified(pattern, since)
  for i = since + 1, #out.notifications do
    if tostring(out.notifications[i].message):find(pattern) then
      return out.notifications[i]
    end
  end
end

local function to_source(cursor)
  api.nvim_set_current_win(win)
  if cursor then
    api.nvim_win_set_cursor(win, cursor)
  end
end

local function buffer_lines()
  return api.nvim_buf_get_lines(buf, 0, -1, false)
end

--- The server's process (Neovim's child) and the CPU time it has used, in clock ticks.
local function server_cpu_ticks()
  local total, pids = 0, {}
  for _, pid in ipairs(api.nvim_get_proc_children(vim.fn.getpid())) do
    local f = io.open("/proc/" .. pid .. "/stat", "r")
    if f then
      local stat = f:read("*a")
      f:close()
      -- fields after the ")" that ends the command name: state is 3rd, utime 14th, stime 15th
      local rest = stat:match("%) (.*)$")
      local fields = vim.split(rest, " ", { plain = true })
      total = total + tonumber(fields[12]) + tonumber(fields[13])
      table.insert(pids, pid)
    end
  end
  return total, pids
end

local steps = {}

function steps.attach()
  vim.cmd.edit(vim.fn.fnameescape(spec.file))
  buf = api.nvim_get_current_buf()
  win = api.nvim_get_current_win()
  wait_for("the qwen_lsp client to attach", spec.attach_timeout_ms, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = "qwen_lsp" })[1]
    return client ~= nil and client.initialized == true
  end)
  observe_requests()
  out.steps.attach = {
    filetype = vim.bo[buf].filetype,
    offset_encoding = client.offset_encoding,
    init_options = client.config.init_options,
    settings = client.config.settings,
    cmd = client.config.cmd,
    filetypes = client.config.filetypes,
    commands = vim.tbl_keys(api.nvim_get_commands({})),
  }
  out.timings_ms.attached = elapsed_ms()
end

function steps.actions()
  to_source(spec.async_cursor)
  local params = vim.lsp.util.make_range_params(win, client.offset_encoding)
  params.context = { diagnostics = {}, triggerKind = 1 }
  local response = assert(client:request_sync("textDocument/codeAction", params,
                                              spec.request_timeout_ms, buf))
  assert(not response.err, vim.inspect(response.err))
  local actions = {}
  for _, action in ipairs(response.result or {}) do
    table.insert(actions, { title = action.title, kind = action.kind,
                            command = action.command and action.command.command })
  end
  out.steps.actions = { actions = actions }
end

-- Ranges as the commands send them: a characterwise visual selection (:'<,'>) and the
-- lines of a :{range}. Each request is cancelled at once; only what was sent matters.
function steps.ranges()
  local record = {}
  local since = #out.notifications
  to_source()
  -- select from byte spec.select_from to byte spec.select_to of the buffer (1-based)
  vim.cmd(("normal! %dgov%dgo\27"):format(spec.select_from, spec.select_to))
  vim.cmd("'<,'>QwenExplain")
  record.visual = last_command("qwenLsp.explain").params
  vim.cmd("QwenCancel")
  wait_for("the cancelled selection request to be answered", spec.request_timeout_ms,
           function() return notified("explain cancelled", since) ~= nil end)
  since = #out.notifications
  to_source()
  vim.cmd(("%d,%dQwenExplain"):format(spec.lines[1], spec.lines[2]))
  record.lines = last_command("qwenLsp.explain").params
  -- this one is cancelled by closing its window with q (the cursor is in it)
  record.in_float = vim.b.qwen_lsp_explanation ~= nil
  vim.cmd.normal("q")
  wait_for("the request closed with q to be answered", spec.request_timeout_ms,
           function() return notified("explain cancelled", since) ~= nil end)
  record.windows_after = #api.nvim_list_wins()
  out.steps.ranges = record
end

function steps.async()
  local since = #out.notifications
  to_source(spec.async_cursor)
  local version = vim.lsp.util.buf_versions[buf]
  vim.cmd("QwenAsync")
  local entry = last_command("qwenLsp.convertToAsync")
  wait_for("the answer to qwenLsp.convertToAsync", spec.async_timeout_ms, function()
    return entry.answered_ms ~= nil
  end)
  vim.wait(100) -- the plugin's notification comes from the same handler
  out.steps.async = {
    version = version,
    sent = entry.params,
    err = entry.err,
    result = entry.result,
    buffer = buffer_lines(),
    notification = notified("convert to async", since),
  }
  out.timings_ms.converted = elapsed_ms()
end

-- A command the server refuses (basket_total is async already): one error, from the
-- plugin; the server's window/showMessage of the same text is not shown twice.
function steps.async_error()
  local since = #out.notifications
  local messages = #out.messages
  to_source(spec.async_error_cursor)
  vim.cmd("QwenAsync")
  local entry = last_command("qwenLsp.convertToAsync")
  wait_for("the refusal of qwenLsp.convertToAsync", spec.request_timeout_ms, function()
    return entry.answered_ms ~= nil
  end)
  vim.wait(100)
  out.steps.async_error = {
    err = entry.err,
    notifications = vim.list_slice(out.notifications, since + 1),
    messages = vim.list_slice(out.messages, messages + 1),
    buffer = buffer_lines(),
  }
end

-- The plugin's answer to workspace/applyEdit, given an AI edit marked needsConfirmation
-- (as the server sends when the client supports documentChanges and annotations):
-- Neovim asks "Apply all changes?"; answered No, nothing changes and the answer must
-- say applied = false (Neovim's own handler says true); answered Yes, it is applied.
function steps.apply_edit_answers()
  local handlers = require("qwen_lsp.handlers")
  local uri = vim.uri_from_bufnr(buf)
  local function edit(text)
    return { edit = {
      documentChanges = { {
        textDocument = { uri = uri, version = vim.NIL },
        edits = { { range = { start = { line = 0, character = 0 },
                              ["end"] = { line = 0, character = 0 } },
                    newText = text, annotationId = "ai" } },
      } },
      changeAnnotations = { ai = { label = "AI refactor of `f`", needsConfirmation = true } },
    } }
  end
  local ctx = { client_id = client.id, method = "workspace/applyEdit", bufnr = buf }
  local record = {}
  for _, answer in ipairs({ 2, 1 }) do
    local asked = #out.confirmations
    out.confirm_answer = answer
    local before = buffer_lines()
    local result = handlers.apply_edit(nil, edit("# added by the test\n"), ctx, nil)
    table.insert(record, {
      answer = answer,
      asked = #out.confirmations - asked,
      result = result,
      changed = not vim.deep_equal(before, buffer_lines()),
    })
  end
  out.confirm_answer = 1
  vim.cmd("silent undo") -- back to the file as it was
  record.buffer_after_undo = buffer_lines()
  out.steps.apply_edit_answers = record
end

function steps.explain()
  to_source(spec.explain_cursor)
  vim.cmd("QwenExplain")
  local entry = last_command("qwenLsp.explain")
  local opened = explanation_window()
  local record = {
    sent = entry.params,
    opened = opened and { floating = opened.floating, filetype = opened.filetype,
                          state = opened.state, text = opened.text } or nil,
    focused_float = opened ~= nil and api.nvim_get_current_win() == opened.win,
  }
  wait_for("the answer to qwenLsp.explain", spec.explain_timeout_ms, function()
    return entry.answered_ms ~= nil
  end)
  vim.wait(50)
  record.err = entry.err
  record.result = entry.result
  record.duration_ms = entry.answered_ms - entry.at_ms
  local final = explanation_window()
  record.final = final and { floating = final.floating, filetype = final.filetype,
                             state = final.state, text = final.text, title = final.title,
                             height = final.height } or nil
  -- q in the explanation window closes it, and the cursor is back in the source
  if final then
    api.nvim_set_current_win(final.win)
    vim.cmd.normal("q")
  end
  record.after_q = { open = explanation_window() ~= nil,
                     current_is_source = api.nvim_get_current_win() == win }
  out.steps.explain = record
  out.timings_ms.explained = elapsed_ms()
end

-- "Ask AI to explain" chosen from the code actions, run as vim.lsp.buf.code_action()
-- runs a command (client:exec_cmd): the plugin's handler takes it.
function steps.code_action_explain()
  to_source(spec.explain_cursor)
  local params = vim.lsp.util.make_range_params(win, client.offset_encoding)
  params.context = { diagnostics = {}, triggerKind = 1 }
  local response = assert(client:request_sync("textDocument/codeAction", params,
                                              spec.request_timeout_ms, buf))
  local chosen
  for _, action in ipairs(response.result or {}) do
    if action.title == "Ask AI to explain" then
      chosen = action
    end
  end
  assert(chosen, "no \"Ask AI to explain\" among the code actions")
  local before = #out.requests
  client:exec_cmd(chosen.command, { bufnr = buf })
  local entry = last_command("qwenLsp.explain")
  assert(#out.requests > before, "choosing the action sent no request")
  wait_for("the answer to the code action's qwenLsp.explain", spec.explain_timeout_ms,
           function() return entry.answered_ms ~= nil end)
  vim.wait(50)
  local view = explanation_window()
  out.steps.code_action_explain = {
    action_argument = chosen.command.arguments[1],
    sent = entry.params,
    result = entry.result,
    err = entry.err,
    float = view and { floating = view.floating, state = view.state, text = view.text } or nil,
  }
  if view then
    api.nvim_win_close(view.win, true)
  end
end

function steps.cancel()
  local since = #out.notifications
  to_source(spec.refactor_cursor)
  local before = buffer_lines()
  local edits_before = #out.applied_edits
  vim.cmd("QwenRefactor")
  local entry = last_command("qwenLsp.refactor")
  local token = entry.params.workDoneToken
  local first
  wait_for("the model to start writing the refactor", spec.refactor_timeout_ms, function()
    for _, p in ipairs(out.progress) do
      if p.token == token and p.kind == "report" and p.message and p.message ~= "" then
        first = p
        return true
      end
    end
    return entry.answered_ms ~= nil
  end)
  assert(entry.answered_ms == nil, "the refactor finished before it could be cancelled")
  -- the model is busy: the server uses CPU
  local t0 = server_cpu_ticks()
  vim.wait(500)
  local busy = server_cpu_ticks() - t0
  local cancelled_at = elapsed_ms()
  vim.cmd("QwenCancel")
  wait_for("the plugin to report the cancellation", spec.request_timeout_ms, function()
    return notified("refactor cancelled", since) ~= nil
  end)
  local acknowledged_at = notified("refactor cancelled", since).at_ms
  -- afterwards the server is idle
  vim.wait(300)
  local t1, pids = server_cpu_ticks()
  vim.wait(1000)
  local idle = server_cpu_ticks() - t1
  -- and :QwenStatus says so
  local status_since = #out.notifications
  vim.cmd("QwenStatus")
  wait_for(":QwenStatus", spec.request_timeout_ms, function()
    return notified("^qwen%-lsp: model", status_since) ~= nil
  end)
  vim.wait(spec.settle_ms) -- anything the cancelled request might still do
  out.steps.cancel = {
    id = entry.id,
    token = token,
    first_report = first,
    handler_called = entry.answered_ms ~= nil,
    cancel_to_ack_ms = acknowledged_at - cancelled_at,
    busy_ticks_500ms = busy,
    idle_ticks_1s = idle,
    server_pids = pids,
    before = before,
    after = buffer_lines(),
    edits_applied = #out.applied_edits - edits_before,
    status_text = notified("^qwen%-lsp: model", status_since).message,
    status = last_command("qwenLsp.status").result,
  }
end

-- The server dies during a request: the plugin ends it with an error, closes its window.
function steps.crash()
  local since = #out.notifications
  to_source(spec.explain_cursor)
  vim.cmd("QwenExplain")
  local opened = explanation_window() ~= nil
  local _, pids = server_cpu_ticks()
  for _, pid in ipairs(pids) do
    uv.kill(pid, "sigkill")
  end
  wait_for("the plugin to notice that the server stopped", spec.request_timeout_ms, function()
    return notified("server stopped", since) ~= nil
  end)
  vim.wait(100)
  out.steps.crash = {
    opened = opened,
    killed = pids,
    notification = notified("server stopped", since),
    window_open = explanation_window() ~= nil,
    active = vim.tbl_count(require("qwen_lsp.commands").active),
  }
end

-- A command in a buffer that has no server (its command is missing): what the user reads.
function steps.without_server()
  local since = #out.notifications
  vim.cmd.edit(vim.fn.fnameescape(spec.file))
  vim.wait(300)
  -- an error message inside a command run by vim.cmd() is raised as a Lua error
  local ran, raised = pcall(vim.cmd, "QwenExplain")
  out.steps.without_server = {
    raised = not ran and tostring(raised) or nil,
    clients = #vim.lsp.get_clients({ name = "qwen_lsp" }),
    notifications = vim.list_slice(out.notifications, since + 1),
  }
end

function steps.health()
  local record = out.steps.health or {}
  vim.cmd("checkhealth qwen_lsp")
  table.insert(record, {
    with_client = client ~= nil,
    lines = api.nvim_buf_get_lines(0, 0, -1, false),
  })
  pcall(vim.cmd, "tabclose") -- :checkhealth opened a tab of its own
  out.steps.health = record
end

function steps.stop()
  client:stop()
  out.steps.stop = {
    stopped = vim.wait(spec.stop_timeout_ms, function() return client:is_stopped() end, 50),
  }
end

local function main()
  for _, name in ipairs(spec.steps) do
    local step = assert(steps[name], "no step " .. name)
    step()
    out.timings_ms[name] = elapsed_ms()
  end
end

local ok, err = xpcall(main, debug.traceback)
out.ok = ok
if not ok then
  out.error = tostring(err)
end
local written, write_err = pcall(write_out)
if not written then
  io.stderr:write("scenario.lua: cannot write the result: " .. tostring(write_err) .. "\n")
end
if ok and written then
  vim.cmd("qall!")
else
  io.stderr:write("scenario.lua: " .. tostring(out.error or write_err) .. "\n")
  vim.cmd("cquit 3")
end
