-- Drives pin-lsp from a real Neovim (0.7+), headless:
--   PIN_LSP=bin TARGET=file ROOT=dir CATALOG=tsv MODE=pin-one|pin-all OUT=result.json \
--     nvim --headless -n -i NONE -u pin.lua
-- Writes what it observed to OUT as JSON; the Rust test makes the assertions.
--
-- The server is started the way a user's configuration starts it: on the `FileType` event of
-- the file types pin-lint reads (`yaml`, `dockerfile`, `json`, `jsonc`), as Neovim's own
-- filetype detection names the file.
local env = function(name)
  local v = os.getenv(name)
  assert(v and v ~= '', 'missing environment variable ' .. name)
  return v
end
local bin, target, root, catalog, mode, out =
  env('PIN_LSP'), env('TARGET'), env('ROOT'), env('CATALOG'), env('MODE'), env('OUT')
local result = { mode = mode, nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) }

local function write_result()
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(result))
  f:close()
end

local function buffer_text(bufnr)
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  if vim.bo[bufnr].eol then
    text = text .. '\n'
  end
  return text
end

local ok, err = pcall(function()
  vim.cmd('filetype on')
  local published = {}
  local client_id
  vim.api.nvim_create_autocmd('FileType', {
    pattern = { 'yaml', 'dockerfile', 'json', 'jsonc' },
    callback = function(args)
      client_id = client_id or vim.lsp.start_client({
        name = 'pin-lsp',
        cmd = { bin },
        root_dir = root,
        init_options = { pinLint = { catalogs = { catalog } } },
        handlers = {
          ['textDocument/publishDiagnostics'] = function(e, res, ctx, config)
            table.insert(published, res)
            vim.lsp.diagnostic.on_publish_diagnostics(e, res, ctx, config)
          end,
        },
      })
      assert(client_id, 'start_client failed')
      vim.lsp.buf_attach_client(args.buf, client_id)
    end,
  })
  vim.cmd('edit ' .. vim.fn.fnameescape(target))
  local bufnr = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[bufnr].filetype
  assert(client_id, 'pin-lsp was not started for file type ' .. result.filetype)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(30000, function() return #published > 0 end, 10), 'no diagnostics published')
  result.diagnostics = published[#published].diagnostics
  result.offset_encoding = client.offset_encoding

  -- Neovim stores diagnostics without their LSP range (0.7): rebuild the range of the first
  -- unpinned-image diagnostic from what the editor stored (byte columns -> UTF-16).
  local stored = vim.diagnostic.get(bufnr)
  result.stored = #stored
  local chosen
  for _, d in ipairs(stored) do
    if d.code == 'unpinned-image' then
      chosen = d
      break
    end
  end
  assert(chosen, 'no stored unpinned-image diagnostic')
  local function utf16_col(lnum, col)
    local line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1] or ''
    return vim.str_utfindex(line, math.min(col, #line))
  end
  local range = {
    start = { line = chosen.lnum, character = utf16_col(chosen.lnum, chosen.col) },
    ['end'] = { line = chosen.end_lnum, character = utf16_col(chosen.end_lnum, chosen.end_col) },
  }
  result.rebuilt_range = range
  local lsp_diag = {
    range = range,
    message = chosen.message,
    severity = chosen.severity,
    source = chosen.source,
    code = chosen.code,
  }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = { diagnostics = { lsp_diag } },
  }, 20000)
  assert(responses and responses[client_id], 'no code action response')
  local actions = responses[client_id].result or {}
  result.titles = {}
  local pick
  for _, a in ipairs(actions) do
    table.insert(result.titles, a.title)
    if mode == 'pin-one' and a.title:find('^Pin to sha256:') then
      pick = pick or a
    elseif mode == 'pin-all' and a.title == 'Pin all images in this file' then
      pick = a
    end
  end
  assert(pick, 'no action for mode ' .. mode)
  result.picked = pick.title
  result.preferred = pick.isPreferred
  vim.lsp.util.apply_workspace_edit(pick.edit, client.offset_encoding)
  result.text = buffer_text(bufnr)

  -- The edit reaches the server as a didChange; wait for the diagnostics of that version.
  local version = vim.lsp.util.buf_versions[bufnr]
  result.version = version
  assert(vim.wait(30000, function()
    local last = published[#published]
    return last.version == version
  end, 10), 'no diagnostics for the edited version ' .. tostring(version))
  result.after = published[#published].diagnostics
  client.stop()
end)
if not ok then
  result.error = tostring(err)
end
write_result()
vim.cmd(ok and 'qall!' or 'cquit!')
