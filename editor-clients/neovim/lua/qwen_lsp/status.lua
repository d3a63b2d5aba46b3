--- :QwenStatus: the server's qwenLsp.status (model state, path, sha256; queue; cache).
local M = {}

--- @param bytes number?
--- @return string
local function size(bytes)
  bytes = tonumber(bytes) or 0
  if bytes >= 1024 * 1024 then
    return ("%.1f MB"):format(bytes / (1024 * 1024))
  elseif bytes >= 1024 then
    return ("%.1f KB"):format(bytes / 1024)
  end
  return ("%d bytes"):format(bytes)
end

--- @param value any
--- @return string
local function text(value)
  if value == nil or value == vim.NIL then
    return "-"
  end
  return tostring(value)
end

--- The lines that describe a qwenLsp.status result, and the level to show them at.
--- @param status table
--- @return string[] lines
--- @return integer level
function M.describe(status)
  local model = type(status.model) == "table" and status.model or {}
  local cache = type(status.cache) == "table" and status.cache or {}
  local state = text(model.state)
  local level = vim.log.levels.INFO
  if state == "error" then
    level = vim.log.levels.ERROR
  elseif state ~= "ready" then
    level = vim.log.levels.WARN
  end
  local lines = { "qwen-lsp: model " .. state }
  if model.backend == "openai" then -- a team server: its model id and address
    table.insert(lines, "  model: " .. text(model.name) .. " @ " .. text(model.baseUrl))
  else
    table.insert(lines, "  model path: " .. text(model.path))
    table.insert(lines, "  sha256: " .. text(model.sha256))
  end
  if model.error ~= nil and model.error ~= vim.NIL and model.error ~= "" then
    table.insert(lines, "  error: " .. text(model.error))
  end
  table.insert(lines, "  queue: " .. text(status.queue) .. " job(s)")
  if cache.enabled == false then
    table.insert(lines, "  cache: off")
  else
    table.insert(lines, ("  cache: %s entries, %s, %s"):format(
      text(cache.entries), size(cache.bytes), text(cache.path)))
  end
  return lines, level
end

--- Ask the qwen_lsp server of the current buffer (or any running one) for its status
--- and show it with vim.notify.
--- @param callback fun(status: table?, err: lsp.ResponseError?)? called with the answer
function M.show(callback)
  local name = require("qwen_lsp").name
  local client = vim.lsp.get_clients({ bufnr = 0, name = name })[1]
    or vim.lsp.get_clients({ name = name })[1]
  if not client then
    vim.notify("qwen-lsp: no qwen_lsp server is running: open a file of a supported "
               .. "language, and see :checkhealth qwen_lsp", vim.log.levels.ERROR)
    if callback then
      callback(nil, { code = -32803, message = "no qwen_lsp server is running" })
    end
    return
  end
  client:request("workspace/executeCommand", { command = "qwenLsp.status" },
    function(err, result)
      if err then
        vim.notify("qwen-lsp: status failed: " .. tostring(err.message or err),
                   vim.log.levels.ERROR)
      else
        local lines, level = M.describe(result or {})
        vim.notify(table.concat(lines, "\n"), level)
      end
      if callback then
        callback(result, err)
      end
    end, 0)
end

return M
