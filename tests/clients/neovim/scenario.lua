-- One user session in a real Neovim against qwen-lsp, set up by init.lua (the plain
-- snippet, editor-clients/neovim/qwen_lsp.lua): open a Python file, list the code
-- actions, run "Convert to async with AI" and "Ask AI to explain" the way
-- vim.lsp.buf.code_action() runs them.
--
-- Run by tests/clients/test_neovim.py:
--   nvim --headless -u init.lua -i NONE -c "luafile scenario.lua"
-- It reads its inputs from the JSON file named by $QWEN_LSP_TEST_SPEC, writes what it
-- saw as JSON to spec.result (the Python test asserts on that), and exits 0, or
-- non-zero with spec.result["error"] set when a step could not be done.

local uv = vim.uv or vim.loop
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
  shown_documents = {}, -- window/showDocument requests the server sent
  messages = {},        -- window/showMessage notifications
  applied_edits = {},   -- workspace/applyEdit requests, with Neovim's answer
  timings_ms = {},
}

local function write_out()
  local f = assert(io.open(spec.result, "wb"))
  f:write(vim.json.encode(out))
  f:close()
end

local function wait_for(what, timeout_ms, condition)
  if not vim.wait(timeout_ms, condition, 50) then
    error(string.format("timed out after %.0f s waiting for %s", timeout_ms / 1000, what), 0)
  end
end

-- Record what the server asks of the editor, then let Neovim's own handlers do it.
local function wrap(method, record)
  local original = assert(vim.lsp.handlers[method], "no default handler for " .. method)
  vim.lsp.handlers[method] = function(err, params, ctx, config)
    local entry = record(params)
    local result, error_ = original(err, params, ctx, config)
    if entry then
      entry.answer = result
      entry.answer_error = error_
    end
    return result, error_
  end
end

wrap("window/showDocument", function(params)
  local entry = { uri = params.uri, takeFocus = params.takeFocus, external = params.external }
  table.insert(out.shown_documents, entry)
  return entry
end)
wrap("window/showMessage", function(params)
  table.insert(out.messages, { type = params.type, message = params.message })
end)
wrap("workspace/applyEdit", function(params)
  local entry = { label = params.label, edit = params.edit }
  table.insert(out.applied_edits, entry)
  return entry
end)

local function summarize(action)
  local command = action.command
  return {
    title = action.title,
    kind = action.kind,
    disabled = action.disabled,
    has_edit = action.edit ~= nil,
    command = type(command) == "table" and command or nil,
  }
end

local function main()
  assert(vim.lsp.config ~= nil and vim.lsp.enable ~= nil,
         "this Neovim has no vim.lsp.config/vim.lsp.enable (0.11+ is needed)")

  vim.cmd.edit(vim.fn.fnameescape(spec.file))
  local buf = api.nvim_get_current_buf()
  local win = api.nvim_get_current_win()
  out.filetype = vim.bo[buf].filetype

  -- 0. the README configuration starts the server for this buffer
  local client
  wait_for("the qwen_lsp client to attach", spec.attach_timeout_ms, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = "qwen_lsp" })[1]
    return client ~= nil and client.initialized == true
  end)
  out.timings_ms.attached = elapsed_ms()
  out.offset_encoding = client.offset_encoding
  out.server_position_encoding = client.server_capabilities.positionEncoding
  local provider = client.server_capabilities.executeCommandProvider
  out.execute_commands = type(provider) == "table" and provider.commands or {}
  out.root_dir = client.root_dir
  out.cmd = client.config.cmd
  out.cmd_path = vim.fn.exepath(client.config.cmd[1])
  out.settings = client.config.settings
  out.init_options = client.config.init_options

  local function code_actions(step, cursor)
    api.nvim_set_current_win(win)
    api.nvim_win_set_buf(win, buf)
    api.nvim_win_set_cursor(win, cursor)
    -- the same parameters vim.lsp.buf.code_action() sends for a cursor position
    local params = vim.lsp.util.make_range_params(win, client.offset_encoding)
    params.context = { diagnostics = {}, triggerKind = 1 }
    local response, err = client:request_sync("textDocument/codeAction", params,
                                              spec.request_timeout_ms, buf)
    if not response then
      error(step .. ": textDocument/codeAction got no answer: " .. tostring(err), 0)
    end
    if response.err then
      error(step .. ": textDocument/codeAction failed: " .. vim.inspect(response.err), 0)
    end
    local actions = response.result
    if actions == nil or actions == vim.NIL then
      actions = {}
    end
    local summary = {}
    for _, action in ipairs(actions) do
      table.insert(summary, summarize(action))
    end
    out[step] = { request = params, actions = summary, version = vim.lsp.util.buf_versions[buf] }
    return actions
  end

  local function find_action(step, actions, title)
    for _, action in ipairs(actions) do
      if action.title == title then
        return action
      end
    end
    error(string.format("%s: no %q among the code actions: %s", step, title,
                        vim.inspect(out[step].actions)), 0)
  end

  -- as vim.lsp.buf.code_action() applies a chosen action: its edit, then its command
  local function run_action(step, action, timeout_ms)
    if action.edit then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
    end
    local command = type(action.command) == "table" and action.command or action
    local done, response = false, nil
    local t = uv.hrtime()
    client:exec_cmd(command, { bufnr = buf }, function(err, result)
      done, response = true, { err = err, result = result }
    end)
    wait_for(step .. ": the answer to " .. command.command, timeout_ms, function()
      return done
    end)
    local record = out[step]
    record.duration_ms = math.floor((uv.hrtime() - t) / 1e6)
    record.error = response.err
    record.result = response.result
    return response
  end

  -- 1. the code actions at a cursor inside fetch_price, after non-ASCII text
  local actions = code_actions("async", spec.async_cursor)
  out.timings_ms.code_actions = elapsed_ms()

  -- 2. "Convert to async with AI": the server sends workspace/applyEdit, Neovim applies it
  run_action("async", find_action("async", actions, "Convert to async with AI"),
             spec.async_timeout_ms)
  out.async.buffer = api.nvim_buf_get_lines(buf, 0, -1, false)
  out.async.modified = vim.bo[buf].modified
  out.timings_ms.converted = elapsed_ms()

  -- 3. "Ask AI to explain" on shout(); the server shows it with window/showDocument
  actions = code_actions("explain", spec.explain_cursor)
  run_action("explain", find_action("explain", actions, "Ask AI to explain"),
             spec.explain_timeout_ms)
  out.timings_ms.explained = elapsed_ms()
  local buffers = {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    local name = api.nvim_buf_get_name(b)
    if name:sub(-3) == ".md" then
      table.insert(buffers, {
        name = name,
        listed = vim.bo[b].buflisted,
        loaded = api.nvim_buf_is_loaded(b),
        displayed = #vim.fn.win_findbuf(b) > 0,
        lines = api.nvim_buf_get_lines(b, 0, -1, false),
      })
    end
  end
  out.markdown_buffers = buffers
  out.current_buffer_is_source = api.nvim_get_current_buf() == buf

  -- 4. a clean shutdown of the server
  client:stop()
  out.server_stopped = vim.wait(spec.stop_timeout_ms, function()
    return client:is_stopped()
  end, 50)
  out.timings_ms.stopped = elapsed_ms()
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
