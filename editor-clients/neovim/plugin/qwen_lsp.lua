-- The plugin's commands, defined at startup; the work is in lua/qwen_lsp/ (loaded on
-- first use). The server itself starts once require("qwen_lsp").setup() has run.
if vim.g.loaded_qwen_lsp then
  return
end
vim.g.loaded_qwen_lsp = true

local function command(name, fn, desc, range)
  vim.api.nvim_create_user_command(name, function(o)
    require("qwen_lsp")[fn](o)
  end, { desc = desc, range = range })
end

command("QwenExplain", "explain",
        "qwen-lsp: explain the selection or the function at the cursor", true)
command("QwenRefactor", "refactor",
        "qwen-lsp: refactor the selection or the function at the cursor", true)
command("QwenAsync", "convert_to_async",
        "qwen-lsp: convert the function at the cursor to async", true)
command("QwenCancel", "cancel", "qwen-lsp: cancel the running request", false)
command("QwenStatus", "status", "qwen-lsp: model, queue and cache of the server", false)
