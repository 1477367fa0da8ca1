-- record.lua - the flux.last.<metric> record, read in Lua. Its one C
-- definition, which writes it and reads it for flux-batch, is
-- last_record() and record_ts() in common/store_last.c.
--
-- The record is "[<ts>, <value>]", a JSON array and a Python literal both,
-- so that Skyline's literal_eval readers keep working; a bare integer
-- timestamp, as older writers left, is read too. The Makefile puts this
-- file in front of each script that reads records.

-- The timestamp of a record, or nil when it holds none.
local function record_ts(record)
  return tonumber(string.match(record, '^%s*%[?%s*(%d+)'))
end
