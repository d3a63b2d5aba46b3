-- luacheck . (Debian: apt-get install lua-check)
std = "luajit"
globals = { "vim" } -- vim.bo[...], vim.b, vim.g are written to
max_line_length = 100
