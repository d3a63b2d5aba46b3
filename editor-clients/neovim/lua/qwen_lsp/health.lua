--- :checkhealth qwen_lsp: is the server command executable, does it start and
--- initialize, is the model ready? Uses the running qwen_lsp client when there is one;
--- otherwise starts the server once, asks it, and shuts it down.
local health = vim.health

local M = {}

local INSTALL = "Install the server: python3 -m venv .venv && .venv/bin/pip install . "
  .. "(in a checkout of qwen-lsp), then point the plugin at it: "
  .. "require(\"qwen_lsp\").setup({ cmd = { \"/path/to/qwen-lsp/.venv/bin/qwen-lsp\" } })"
local INITIALIZE_MS = 30000
local MODEL_MS = 180000 -- the first run assembles and verifies the embedded model

--- Poll qwenLsp.status until the model is no longer loading.
--- @param request fun(method: string, params: table, callback: fun(err: any, result: any)): boolean
--- @return table? status
--- @return string? problem
local function wait_for_model(request)
  local deadline = vim.uv.now() + MODEL_MS
  while true do
    local done, err, status = false, nil, nil
    local sent = request("workspace/executeCommand", { command = "qwenLsp.status" },
      function(e, r)
        done, err, status = true, e, r
      end)
    if not sent then
      return nil, "the server stopped"
    end
    if not vim.wait(10000, function() return done end, 20) then
      return nil, "qwenLsp.status got no answer within 10 s"
    end
    if err then
      return nil, "qwenLsp.status failed: " .. tostring(err.message or err)
    end
    local state = type(status) == "table" and type(status.model) == "table"
      and status.model.state or nil
    if state ~= "loading" or vim.uv.now() > deadline then
      return status, nil
    end
    vim.wait(250)
  end
end

--- Report on a status result.
--- @param status table
local function report_status(status)
  local lines, _ = require("qwen_lsp.status").describe(status)
  local model = type(status.model) == "table" and status.model or {}
  local details = table.concat(lines, "\n", 2)
  if model.state == "ready" then
    health.ok("model ready\n" .. details)
  elseif model.state == "error" then
    health.error("the model is not available\n" .. details, {
      "Check the modelPath setting: a GGUF file that exists, or \"\" for the embedded model.",
      "For the embedded model, reinstall the server. " .. INSTALL,
    })
  else
    health.warn(("the model is still %s after %d s\n"):format(tostring(model.state),
                                                             MODEL_MS / 1000) .. details)
  end
end

--- Start the server, initialize it, wait for the model, and shut it down.
--- @param cmd string[]
--- @param settings table
local function check_fresh_server(cmd, settings)
  local messages = {} ---@type string[]
  local exited = nil ---@type string?
  local ok, rpc = pcall(vim.lsp.rpc.start, cmd, {
    notification = function(method, params)
      if method == "window/showMessage" and type(params) == "table" then
        table.insert(messages, tostring(params.message))
      end
    end,
    server_request = function(method, params)
      if method == "workspace/configuration" then
        local items = type(params) == "table" and params.items or {}
        local result = {}
        for i = 1, #items do
          result[i] = settings
        end
        return result, nil
      end
      if method == "window/workDoneProgress/create" then
        return vim.NIL, nil
      end
      return nil, vim.lsp.rpc.rpc_response_error(vim.lsp.protocol.ErrorCodes.MethodNotFound)
    end,
    on_exit = function(code, signal)
      exited = ("exit code %s, signal %s"):format(tostring(code), tostring(signal))
    end,
  })
  if not ok then
    health.error("the server did not start: " .. tostring(rpc), { INSTALL })
    return
  end
  local done, err, result = false, nil, nil
  rpc.request("initialize", {
    processId = vim.fn.getpid(),
    clientInfo = { name = "Neovim :checkhealth qwen_lsp", version = tostring(vim.version()) },
    rootUri = vim.NIL,
    capabilities = vim.lsp.protocol.make_client_capabilities(),
    initializationOptions = settings,
  }, function(e, r)
    done, err, result = true, e, r
  end)
  vim.wait(INITIALIZE_MS, function() return done or exited ~= nil end, 20)
  if not done then
    rpc.terminate()
    health.error(("the server did not answer initialize (%s)"):format(
      exited or ("no answer within " .. INITIALIZE_MS / 1000 .. " s")),
      { "Run it by hand to see why: " .. table.concat(cmd, " ") .. " --version", INSTALL,
        "Its stderr is in :LspLog" })
    return
  end
  if err then
    rpc.terminate()
    health.error("initialize failed: " .. tostring(err.message or err), { INSTALL })
    return
  end
  local info = type(result) == "table" and type(result.serverInfo) == "table"
    and result.serverInfo or {}
  health.ok(("the server starts and initializes (%s %s)"):format(
    tostring(info.name or "?"), tostring(info.version or "?")))
  rpc.notify("initialized", vim.empty_dict())
  local status, problem = wait_for_model(rpc.request)
  if status then
    report_status(status)
  else
    health.error("cannot read the server's status: " .. tostring(problem))
  end
  local model_error = status and type(status.model) == "table"
    and type(status.model.error) == "string" and status.model.error or nil
  for _, message in ipairs(messages) do
    if not (model_error and message:find(model_error, 1, true)) then
      health.info("the server said: " .. message)
    end
  end
  local stopped = false
  rpc.request("shutdown", vim.NIL, function()
    stopped = true
  end)
  vim.wait(5000, function() return stopped end, 20)
  rpc.notify("exit", vim.NIL)
  if not vim.wait(3000, function() return exited ~= nil end, 20) then
    rpc.terminate()
  end
end

function M.check()
  health.start("qwen_lsp")
  local v = vim.version()
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(("Neovim %d.%d.%d has vim.lsp.config/vim.lsp.enable"):format(
      v.major, v.minor, v.patch))
  else
    health.error("Neovim 0.11 or newer is needed (vim.lsp.config)")
    return
  end

  local qwen = require("qwen_lsp")
  local options = qwen.options
  if options then
    health.ok("setup() was called")
  else
    health.warn("require(\"qwen_lsp\").setup() has not been called: checking the defaults",
                { "Add require(\"qwen_lsp\").setup({ ... }) to your config" })
    options = qwen.resolve()
  end

  local cmd = options.cmd
  if type(cmd) ~= "table" then
    health.info("cmd is a function: not checked further")
    return
  end
  local path = vim.fn.exepath(cmd[1])
  if path == "" then
    health.error(("the server command %q is not executable (not found on PATH)"):format(
      tostring(cmd[1])), { INSTALL })
    return
  end
  health.ok("server command: " .. table.concat(vim.list_extend({ path }, cmd, 2), " "))

  local client = vim.lsp.get_clients({ name = qwen.name })[1]
  if client then
    health.ok(("running: client %d, root %s, position encoding %s"):format(
      client.id, tostring(client.root_dir), tostring(client.offset_encoding)))
    local status, problem = wait_for_model(function(method, params, callback)
      return (client:request(method, params, callback, 0))
    end)
    if status then
      report_status(status)
    else
      health.error("cannot read the server's status: " .. tostring(problem))
    end
  else
    health.info("no qwen_lsp client is running: starting the server to check it")
    check_fresh_server(cmd, qwen.server_settings(options))
  end
end

return M
