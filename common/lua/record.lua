-- record.lua - a metric's two flux.last records, read and written in Lua.
-- The Makefile puts this file in front of each script that reads records.
--
-- The record: flux.last.<metric> holds "[<ts>, <value>]", a JSON array and
-- a Python literal both, so that Skyline's literal_eval readers keep
-- working; a bare integer timestamp, as older writers left, is read too.
-- Its one C definition, which writes it, is store_last_record() in
-- common/store_last.c.
--
-- The entry: the field <metric> of the hash flux.last.metric_data holds
-- "{'timestamp': <ts>, 'value': <value>}", the str() of a Python dict.
-- Skyline's readers (get_last_metric_data, used by Vista and by Skyline's
-- own Flux) look the entry up first and read the record only when the
-- entry is missing; Skyline's Flux and Vista write entries (Vista's value
-- may be None). So Flux writes both, the entry made here from the record,
-- and takes the newer of the two as the metric's last timestamp.

-- The key of a record is this prefix and the metric's name; the name is
-- the entry's field.
local LAST_PREFIX = 'flux.last.'

-- The timestamp of a record, or nil when it holds none.
local function record_ts(record)
  return tonumber(string.match(record, '^%s*%[?%s*(%d+)'))
end

-- The timestamp of an entry (the digits after the timestamp key: a float
-- timestamp counts its whole seconds), or nil when it holds none.
local function entry_ts(entry)
  return tonumber(string.match(entry, 'timestamp%W?%s*:%s*(%d+)'))
end

-- The last timestamp of a metric whose key and field held record and
-- entry (each false or nil when absent): the newer of the two, or nil.
local function last_ts(record, entry)
  local r = record and record_ts(record) or nil
  local e = entry and entry_ts(entry) or nil
  if r and e then
    return math.max(r, e)
  end
  return r or e
end

-- The field of the metric whose record is at key.
local function field_of(key)
  return string.sub(key, #LAST_PREFIX + 1)
end

-- The entry that goes with a record this Flux wrote: the same timestamp
-- and value, the value already in Python's repr() (store_last_record).
local ENTRY_TS, ENTRY_VALUE = [[{'timestamp': ]], [[, 'value': ]]
local function entry_of(record)
  local ts, value = string.match(record, '^%[(-?%d+), (.*)%]$')
  return ENTRY_TS .. ts .. ENTRY_VALUE .. value .. '}'
end

-- A hash command on the entries that tolerates a key of another type:
-- the reply, or false for such a key (which then reads as holding none).
local function entries_call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then
    return false
  end
  return reply
end
