-- luacheck . (Debian: apt-get install lua-check)
std = "luajit"
read_globals = { "vim" }
max_line_length = 100
