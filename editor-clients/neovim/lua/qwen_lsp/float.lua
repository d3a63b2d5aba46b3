--- The explanation window: a floating Markdown buffer that fills in as the answer
--- streams. `q` closes it. One at a time: a new explanation replaces the last.
---
--- Its buffer has b:qwen_lsp_explanation = "waiting" | "streaming" | "done" | "failed"
--- (for statuslines, and for tests that look for it).
local api = vim.api

local M = {}

--- @class qwen_lsp.View
--- @field buf integer
--- @field win integer
--- @field max_height integer
--- @field title string

--- @type qwen_lsp.View?
local current = nil

--- @param view qwen_lsp.View?
--- @return boolean
local function is_open(view)
  return view ~= nil and api.nvim_win_is_valid(view.win) and api.nvim_buf_is_valid(view.buf)
end

--- Close the explanation window, if it is open.
--- @param view qwen_lsp.View?
function M.close(view)
  view = view or current
  if is_open(view) then
    api.nvim_win_close(view.win, true)
  end
  if view == current then
    current = nil
  end
end

--- @param view qwen_lsp.View
local function fit(view)
  local height = api.nvim_win_text_height(view.win, {}).all
  api.nvim_win_set_config(view.win, { height = math.max(1, math.min(height, view.max_height)) })
end

--- Open an empty explanation window at the cursor of the current window. `q` closes it
--- and calls on_close (the plugin cancels an explanation still being written).
--- @param title string
--- @param opts qwen_lsp.FloatOptions
--- @param on_close fun()?
--- @return qwen_lsp.View
function M.open(title, opts, on_close)
  M.close()
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "markdown"
  vim.b[buf].qwen_lsp_explanation = "waiting"
  local width = math.max(20, math.min(opts.max_width, vim.o.columns - 4))
  local config = vim.lsp.util.make_floating_popup_options(width, opts.max_height, {
    border = opts.border, title = " " .. title .. " ", title_pos = "left" })
  local max_height = math.max(1, config.height)
  config.height = 1
  config.footer = " q: close "
  config.footer_pos = "right"
  local win = api.nvim_open_win(buf, opts.enter, config)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 2
  vim.wo[win].concealcursor = "n"
  pcall(vim.treesitter.start, buf, "markdown")
  vim.keymap.set("n", "q", function()
    M.close()
    if on_close then
      on_close()
    end
  end, { buffer = buf, nowait = true, desc = "Close the qwen-lsp explanation" })
  current = { buf = buf, win = win, max_height = max_height, title = title }
  M.set_text(current, "_Thinking…_", "waiting")
  return current
end

--- Show `text` (the whole explanation so far) in the window.
--- @param view qwen_lsp.View
--- @param text string
--- @param state "waiting"|"streaming"|"done"|"failed"
function M.set_text(view, text, state)
  if not is_open(view) then
    return
  end
  vim.bo[view.buf].modifiable = true
  api.nvim_buf_set_lines(view.buf, 0, -1, false, vim.split(text, "\n", { plain = true }))
  vim.bo[view.buf].modifiable = false
  vim.bo[view.buf].modified = false
  vim.b[view.buf].qwen_lsp_explanation = state
  fit(view)
end

--- Change the window's title, e.g. to the server's "Qwen: Explaining `name`".
--- @param view qwen_lsp.View
--- @param title string
function M.set_title(view, title)
  if is_open(view) and title ~= view.title then
    view.title = title
    api.nvim_win_set_config(view.win, { title = " " .. title .. " ", title_pos = "left" })
  end
end

--- @param view qwen_lsp.View?
--- @return boolean
function M.is_open(view)
  return is_open(view)
end

return M
