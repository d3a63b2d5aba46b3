-- The plugin as a user sets it up with a plain runtimepath entry:
--   vim.opt.runtimepath:prepend("/path/to/qwen-lsp/editor-clients/neovim")
--   require("qwen_lsp").setup({ cmd = { ".../.venv/bin/qwen-lsp" } })
-- plugin/qwen_lsp.lua (the commands) is then loaded by Neovim itself after this file.
-- For the test: the server is the virtualenv's under test, and the result cache goes
-- into the test's temporary directory.
local root = assert(vim.env.QWEN_LSP_PLUGIN_ROOT, "QWEN_LSP_PLUGIN_ROOT is not set")
local test_dir = assert(vim.env.QWEN_LSP_TEST_DIR, "QWEN_LSP_TEST_DIR is not set")
local cmd = assert(vim.env.QWEN_LSP_TEST_CMD, "QWEN_LSP_TEST_CMD is not set")

local extra = vim.env.QWEN_LSP_TEST_SETTINGS -- JSON: more server settings for one test

vim.opt.runtimepath:prepend(root)
require("qwen_lsp").setup({
  cmd = { cmd },
  settings = vim.tbl_extend("force", { cache = { directory = test_dir .. "/results" } },
                            extra and vim.json.decode(extra) or {}),
})
-- the cancellation ack (RequestCancelled) is only visible in the log, at debug level
vim.lsp.log.set_level("debug")
