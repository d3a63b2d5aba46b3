-- qwen-lsp for Neovim 0.11+, with no plugin: copy this file into your config
-- (for instance as ~/.config/nvim/plugin/qwen_lsp.lua) or paste it into init.lua.
--
-- Run :lua vim.lsp.buf.code_action() on a function for "Ask AI to explain",
-- "Refactor with AI" and "Convert to async with AI". Without the plugin
-- (editor-clients/neovim, require("qwen_lsp").setup()), explanations open as a
-- Markdown file that the server writes (window/showDocument).
--
-- `cmd` must find the server: put the virtualenv's bin/ on your PATH, or give the full
-- path, e.g. cmd = { vim.fn.expand("~/src/qwen-lsp/.venv/bin/qwen-lsp") }.
vim.lsp.config("qwen_lsp", {
  cmd = { "qwen-lsp" },
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
                "go", "rust", "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash" },
  root_markers = { ".git" },
  settings = { qwenLsp = { explanationLanguage = "auto" } },
})
vim.lsp.enable("qwen_lsp")
