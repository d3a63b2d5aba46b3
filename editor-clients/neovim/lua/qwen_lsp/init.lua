--- qwen-lsp for Neovim 0.11+: starts the server with vim.lsp.config/vim.lsp.enable and
--- adds :QwenExplain, :QwenRefactor, :QwenAsync, :QwenCancel and :QwenStatus.
---
---   require("qwen_lsp").setup({
---     cmd = { vim.fn.expand("~/src/qwen-lsp/.venv/bin/qwen-lsp") },
---     settings = { explanationLanguage = "en" }, -- the server's qwenLsp settings
---   })
---
--- Explanations stream into a floating Markdown window (the plugin tells the server
--- `explanationDisplay = "client"`); rewrites are applied by Neovim itself when the server
--- sends workspace/applyEdit.
local M = {}

--- The client's name in vim.lsp.config() and vim.lsp.get_clients().
M.name = "qwen_lsp"

--- Neovim filetypes of the 13 languages the server parses (JavaScript includes JSX,
--- Bash is both "sh" and "bash").
M.filetypes = {
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
  "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash",
}

--- @class qwen_lsp.FloatOptions
--- @field max_width integer
--- @field max_height integer
--- @field border string|string[]
--- @field enter boolean move the cursor into the explanation window when it opens

--- @class qwen_lsp.Options
--- @field cmd string[]|fun(...): vim.lsp.rpc.PublicClient the server command
--- @field filetypes string[]
--- @field root_markers (string|string[])[]
--- @field settings table the server's `qwenLsp` settings (INTERFACE.md), e.g. { modelPath = "" }
--- @field float qwen_lsp.FloatOptions
--- @field lsp table any other vim.lsp.config() field (capabilities, on_attach, ...)
--- @field enable boolean call vim.lsp.enable() (false: only define the config)

--- @type qwen_lsp.Options
local defaults = {
  cmd = { "qwen-lsp" },
  filetypes = M.filetypes,
  root_markers = { ".git" },
  settings = {},
  float = { max_width = 88, max_height = 30, border = "rounded", enter = true },
  lsp = {},
  enable = true,
}

--- The options in force: set by setup(), nil before.
--- @type qwen_lsp.Options?
M.options = nil

--- The defaults merged with `opts` (lists such as cmd and filetypes are replaced whole).
--- @param opts table?
--- @return qwen_lsp.Options
function M.resolve(opts)
  opts = opts or {}
  vim.validate("opts.cmd", opts.cmd, { "table", "function" }, true)
  vim.validate("opts.filetypes", opts.filetypes, "table", true)
  vim.validate("opts.root_markers", opts.root_markers, "table", true)
  vim.validate("opts.settings", opts.settings, "table", true)
  vim.validate("opts.float", opts.float, "table", true)
  vim.validate("opts.lsp", opts.lsp, "table", true)
  vim.validate("opts.enable", opts.enable, "boolean", true)
  local options = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts)
  -- settings may be given as the section itself or wrapped as { qwenLsp = {...} }
  if type(options.settings.qwenLsp) == "table" then
    options.settings = options.settings.qwenLsp
  end
  return options
end

--- The server settings the plugin sends: the user's, with explanations shown by the
--- plugin (it renders them in a float) instead of the server.
--- @param options qwen_lsp.Options
--- @return table
function M.server_settings(options)
  return vim.tbl_deep_extend("force", vim.deepcopy(options.settings),
                             { explanationDisplay = "client" })
end

--- The vim.lsp.config() table for these options.
--- @param options qwen_lsp.Options
--- @return vim.lsp.Config
function M.lsp_config(options)
  local settings = M.server_settings(options)
  local handlers = require("qwen_lsp.handlers")
  return vim.tbl_deep_extend("force", options.lsp, {
    cmd = options.cmd,
    filetypes = options.filetypes,
    root_markers = options.root_markers,
    init_options = settings,
    settings = { qwenLsp = settings },
    handlers = {
      ["$/progress"] = handlers.progress,
      ["window/showMessage"] = handlers.show_message,
      ["workspace/applyEdit"] = handlers.apply_edit,
    },
    commands = require("qwen_lsp.commands").code_action_handlers(),
  })
end

--- Configure and enable the qwen_lsp client. Safe to call again with new options.
--- @param opts table? see qwen_lsp.Options
function M.setup(opts)
  if vim.fn.has("nvim-0.11") == 0 then
    vim.notify("qwen-lsp needs Neovim 0.11 or newer (vim.lsp.config)", vim.log.levels.ERROR)
    return
  end
  local options = M.resolve(opts)
  M.options = options
  vim.lsp.config(M.name, M.lsp_config(options))
  if options.enable then
    vim.lsp.enable(M.name)
  end
end

--- @param o vim.api.keyset.create_user_command.command_args?
function M.explain(o)
  require("qwen_lsp.commands").run("explain", o)
end

--- @param o vim.api.keyset.create_user_command.command_args?
function M.refactor(o)
  require("qwen_lsp.commands").run("refactor", o)
end

--- @param o vim.api.keyset.create_user_command.command_args?
function M.convert_to_async(o)
  require("qwen_lsp.commands").run("async", o)
end

--- Cancel the running qwen-lsp requests ($/cancelRequest): the server stops the model.
function M.cancel()
  require("qwen_lsp.commands").cancel()
end

--- Show the server's state: model, queue, cache.
function M.status()
  require("qwen_lsp.status").show()
end

return M
