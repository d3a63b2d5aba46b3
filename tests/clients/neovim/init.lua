-- The plain snippet users copy, editor-clients/neovim/qwen_lsp.lua, loaded as it is.
-- The test changes two things, both outside that file:
--   * PATH starts with the virtualenv under test, so the snippet's cmd = { "qwen-lsp" }
--     finds that server (as the README tells users to do);
--   * a second vim.lsp.config() call (which merges into the snippet's) points the result
--     cache into the test's temporary directory, so nothing is written to the home
--     directory.
-- explanationDisplay is left at its default ("server"): like a user without a plugin,
-- this Neovim gets explanations through window/showDocument.
local test_dir = assert(vim.env.QWEN_LSP_TEST_DIR, "QWEN_LSP_TEST_DIR is not set")
local snippet = assert(vim.env.QWEN_LSP_SNIPPET, "QWEN_LSP_SNIPPET is not set")
dofile(snippet)

local cache = { directory = test_dir .. "/results" }
vim.lsp.config("qwen_lsp", {
  init_options = { cache = cache },
  settings = { qwenLsp = { cache = cache } },
})
