-- The README's Neovim setup, as users copy it (README.md, "Editor setup").
-- Two changes for the test, both taken from the environment the test sets:
--   * cmd is the `qwen-lsp` console script of the virtualenv under test;
--   * cache.directory points into the test's temporary directory, so that nothing is
--     written to the home directory.
-- explanationDisplay is left at its default ("server"): like a user without a plugin,
-- this Neovim gets explanations through window/showDocument.
local test_dir = assert(vim.env.QWEN_LSP_TEST_DIR, "QWEN_LSP_TEST_DIR is not set")
local qwen_lsp = assert(vim.env.QWEN_LSP_TEST_CMD, "QWEN_LSP_TEST_CMD is not set")
local cache = { directory = test_dir .. "/results" }

vim.lsp.config("qwen_lsp", {
  cmd = { qwen_lsp },
  filetypes = { "python", "javascript", "typescript", "typescriptreact", "go", "rust",
                "java", "c", "cpp", "cs", "ruby", "php", "sh" },
  root_markers = { ".git" },
  init_options = { cache = cache },
  settings = { qwenLsp = { explanationLanguage = "auto", cache = cache } },
})
vim.lsp.enable("qwen_lsp")
