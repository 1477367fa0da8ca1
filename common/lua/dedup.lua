-- dedup.lua - the de-duplication check-and-set of one request (SPEC 5),
-- run by flux_store_dedup() in common/store_claim.c, which builds KEYS and
-- ARGV in the order named below (enum dedup_key and enum dedup_arg there)
-- and reads the reply (enum dedup_code). Change both sides together.
--
-- Claims. A point this script takes advances flux.last before it is
-- delivered. Until its request has delivered or spooled it, and confirms,
-- or has rolled it back, the new record is a claim of that request, not a
-- fact. Each request has a random token. Its claim is pending while the
-- token is in the pending set with a lease deadline; the confirm moves it
-- to the done set, where it stays for twice the lease; the rollback takes
-- it out. A claim whose deadline has passed is gone, as if absent; each
-- claiming run prunes a few such entries from both sets. Beside each
-- flux.last.<metric>, flux.claims.<metric> lists the claims made on the
-- metric: "<token>:<previous ts>:<claimed ts>" entries separated by spaces
-- (previous "-" when flux.last was absent). Entries that are not pending
-- are dropped at the metric's next claim, so a list holds one entry, or a
-- few while claims overlap.
--
-- A metric has two records (record.lua): its key flux.last.<metric> and its
-- entry in the hash flux.last.metric_data, which Skyline's readers look up
-- first. Its last timestamp is the newer of the two, and a point taken
-- sets both, so a claim's previous and claimed timestamps are of both.
--
-- A point not newer than flux.last but newer than the previous timestamp of
-- another request's pending claim waits: it is a duplicate only if that
-- claim is delivered. A request with a waiting point takes nothing and
-- writes nothing (so that a waiting request holds no claim that another
-- could wait on), and runs the script again with the tokens it saw pending.
-- A claim seen pending that is then gone was rolled back, or its request
-- was killed and the lease ran out: either way it was not delivered. Such
-- an abandoned claim no longer counts; when it wrote the record flux.last
-- holds, the record before it counts instead, so the waiting point is
-- taken. A claim that is gone but was never seen pending counts as
-- delivered.
--
-- Every key the script touches is in KEYS (the client knows them all
-- before the call). Times are Redis's (TIME, in milliseconds), so the
-- clocks of the Flux nodes do not matter; Redis 5 and later replicate a
-- script by its effects, which allows TIME before writes.

-- KEYS: the pending set (token -> lease deadline), the done set (token ->
-- expiry), the hash of entries (LAST_HASH), the hash of this minute's
-- self-metrics (STATS, common/lua/stats.lua), then per point, in the order
-- of the points, its flux.last (LAST) and its claim list,
-- flux.claims.<metric> (LIST).
local PENDING_SET, DONE_SET = KEYS[1], KEYS[2]
local LAST_HASH, STATS = KEYS[3], KEYS[4]
local FIRST_POINT_KEY, KEYS_PER_POINT, LAST, LIST = 5, 2, 0, 1
-- ARGV: "1" to apply or "0" for a test request (which only reads), the
-- lease in milliseconds, this request's token, the tokens it has seen
-- pending (space-separated), the request's counts and delivery outcome
-- for count_stats(), the field its duplicates are counted in ('' none),
-- then per point its timestamp (TS) and the record it would write
-- (RECORD).
local apply = ARGV[1] == '1'
local lease = tonumber(ARGV[2])
local token = ARGV[3]
local seen_arg = ARGV[4]
local stats_spec, stats_delivery, duplicates_field = ARGV[5], ARGV[6], ARGV[7]
local FIRST_POINT_ARG, ARGS_PER_POINT, TS, RECORD = 8, 2, 0, 1

-- Claim states.
local PENDING, DONE, ABANDONED = 'p', 'd', 'a'
-- The reply: the tokens of the pending claims met (space-separated), then
-- per point a code, the record its key held before ('' but for
-- TAKEN_OVER) and the entry its field held before ('' when none, or when
-- not taken).
local DUPLICATE = 0     -- not newer: dropped
local TAKEN_NEW = 1     -- taken; its flux.last key was absent
local TAKEN_OVER = 2    -- taken; the old record follows
local WAIT = 3          -- held back by another request's pending claim
-- Values per redis.call() at most: unpack() puts them on Lua's C stack,
-- which holds 8000 (LUAI_MAXCSTACK). A multiple of four, so that a point's
-- keys (MGET) and its keys and values (MSET), or its field and entry
-- (HSET), go in one call.
local CHUNK = 1000
-- Lapsed entries pruned from each set per claiming run: more than the one
-- the run adds, so a backlog drains without one long call.
local PRUNE = 16
-- A request of this many points or more reads the entries of a hash kept
-- as a list whole (below): from about 30 points on, reading the whole
-- list is cheaper than searching it for each point's field.
local MANY_POINTS = 32
-- The encodings of such a hash (Redis 7, and 6 and before).
local LIST_ENCODING = { listpack = true, ziplist = true }

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = now_ms()
local npoints = (#KEYS - FIRST_POINT_KEY + 1) / KEYS_PER_POINT

-- Point i's key which (LAST or LIST) and argument which (TS or RECORD).
local function key(i, which)
  return KEYS[FIRST_POINT_KEY + KEYS_PER_POINT * (i - 1) + which]
end
local function arg(i, which)
  return ARGV[FIRST_POINT_ARG + ARGS_PER_POINT * (i - 1) + which]
end

-- What the keys held: records[i] the flux.last record of point i (false
-- when absent), lists[i] its claim list ('' when absent), entries[i] its
-- entry (false when absent), at the field names[i]. A key of another type
-- reads as absent, and the writes below replace it.
local records, lists, entries, names = {}, {}, {}, {}
for first = FIRST_POINT_KEY, #KEYS, CHUNK do
  local held = redis.call('MGET', unpack(KEYS, first,
    math.min(first + CHUNK - 1, #KEYS)))
  for j = 1, #held, KEYS_PER_POINT do
    local i = (first - FIRST_POINT_KEY + j - 1) / KEYS_PER_POINT + 1
    records[i] = held[j + LAST]
    lists[i] = held[j + LIST] or ''
  end
end
for i = 1, npoints do
  names[i] = field_of(key(i, LAST))
end
-- The entries: HMGET's, or, for many points in a hash Redis keeps as one
-- list (up to hash-max-listpack-entries fields), HGETALL's. Each field
-- HMGET reads is searched for through such a list, and the fields of a
-- request of 450 points in a list of 450 took 1.7 ms where one HGETALL
-- took 0.1 ms (Redis 7.0); a table finds each field at once.
local hash_usable = true
if npoints >= MANY_POINTS and
    LIST_ENCODING[entries_call('OBJECT', 'ENCODING', LAST_HASH)] then
  local all = entries_call('HGETALL', LAST_HASH)
  local by_name = {}
  hash_usable = all ~= false
  for j = 1, all and #all or 0, 2 do
    by_name[all[j]] = all[j + 1]
  end
  for i = 1, npoints do
    entries[i] = by_name[names[i]] or false
  end
else
  for first = 1, npoints, CHUNK do
    local held = entries_call('HMGET', LAST_HASH, unpack(names, first,
      math.min(first + CHUNK - 1, npoints)))
    hash_usable = hash_usable and held ~= false
    for j = first, math.min(first + CHUNK - 1, npoints) do
      entries[j] = held and held[j - first + 1]
    end
  end
end

local seen = {}
for t in string.gmatch(seen_arg, '%x+') do
  seen[t] = true
end

-- Whether token t is in set with its deadline still ahead.
local function live_in(set, t)
  local deadline = redis.call('ZSCORE', set, t)
  return deadline and tonumber(deadline) > now
end

-- The state of the claim of token t, looked up once. This request's own
-- claims never hold its points back.
local states, met_pending = {}, {}
local function state_of(t)
  local s = states[t]
  if s == nil then
    s = DONE
    if t ~= token then
      if live_in(PENDING_SET, t) then
        s = PENDING
        met_pending[#met_pending + 1] = t
      elseif seen[t] and not live_in(DONE_SET, t) then
        s = ABANDONED
      end
    end
    states[t] = s
  end
  return s
end

local reply = {}
local REPLY_PER_POINT = 3
local function answer(i, code, old, old_entry)
  local at = 1 + REPLY_PER_POINT * (i - 1)
  reply[at + 1] = code
  reply[at + 2] = old
  reply[at + 3] = old_entry
end

-- What this run writes, and what it left in each key so far: a key given
-- twice is judged against the record set earlier in the same run, and the
-- later write wins, as sequential SETs would.
local writes, entry_writes = {}, {}
local record_now, list_now, entry_now = {}, {}, {}
local taken, waiting = false, false

-- Take point i: its record replaces held and its entry replaces entry; its
-- claim joins the list, from which the claims no longer pending are
-- dropped.
local function take(i, held, entry, list, previous)
  local last_key, record = key(i, LAST), arg(i, RECORD)
  local new_entry = entry_of(record)
  local mine = token .. ':' .. (previous or '-') .. ':' .. arg(i, TS)
  local only = string.match(list, '^(%x+):[-%d]+:?%d*$')
  if list == '' or (only and only ~= token and state_of(only) ~= PENDING) then
    -- The usual case: the one claim listed has ended.
    list = mine
  else
    local keep = {}
    for entry, t in string.gmatch(list, '((%x+):[-%d]+:?%d*)') do
      if t == token or state_of(t) == PENDING then
        keep[#keep + 1] = entry
      end
    end
    keep[#keep + 1] = mine
    list = table.concat(keep, ' ')
  end
  writes[#writes + 1] = last_key
  writes[#writes + 1] = record
  writes[#writes + 1] = key(i, LIST)
  writes[#writes + 1] = list
  entry_writes[#entry_writes + 1] = names[i]
  entry_writes[#entry_writes + 1] = new_entry
  record_now[last_key] = record
  list_now[last_key] = list
  entry_now[last_key] = new_entry
  taken = true
  answer(i, held and TAKEN_OVER or TAKEN_NEW, held or '', entry or '')
end

-- Point i at ts is not newer than last, the timestamp of held and entry:
-- take it when abandoned claims wrote the records past it, else it is a
-- duplicate or waits for a pending claim.
local function judge(i, ts, held, entry, list, last)
  -- The claims listed (not the hash's entries).
  local claims = {}
  for t, previous, claimed in string.gmatch(list, '(%x+):([-%d]+):?(%d*)') do
    -- Entries of the older two-field format have no claimed timestamp.
    claims[#claims + 1] = { token = t, previous = tonumber(previous) or -1,
      claimed = tonumber(claimed) }
  end
  -- The timestamp that counts: back past the abandoned claims that wrote
  -- it, newest first (-1: no record counts).
  local counts = last
  for j = #claims, 1, -1 do
    local e = claims[j]
    if e.claimed == counts and state_of(e.token) == ABANDONED then
      counts = e.previous
    end
  end
  -- Not newer than settled: a duplicate whatever the pending claims become.
  local settled = counts
  for j = 1, #claims do
    local e = claims[j]
    if e.previous < settled and state_of(e.token) == PENDING then
      settled = e.previous
    end
  end
  if ts > counts then
    take(i, held, entry, list, counts >= 0 and counts or nil)
  elseif ts > settled then
    answer(i, WAIT, '', '')
    waiting = true
  else
    answer(i, DUPLICATE, '', '')
  end
end

for i = 1, npoints do
  local last_key = key(i, LAST)
  local held, list = record_now[last_key], list_now[last_key]
  local entry = entry_now[last_key]
  if held == nil then
    held = records[i]
  end
  if list == nil then
    list = lists[i]
  end
  if entry == nil then
    entry = entries[i]
  end
  local ts = tonumber(arg(i, TS))
  local last = last_ts(held, entry)
  if not last or ts > last then
    take(i, held, entry, list, last)
  else
    judge(i, ts, held, entry, list, last)
  end
end

-- Remove up to PRUNE entries whose deadline has passed from set.
local function prune(set)
  local lapsed = redis.call('ZCOUNT', set, '-inf', now)
  if lapsed > 0 then
    redis.call('ZREMRANGEBYRANK', set, 0, math.min(lapsed, PRUNE) - 1)
  end
end

if apply and taken and not waiting then
  prune(PENDING_SET)
  prune(DONE_SET)
  redis.call('ZADD', PENDING_SET, now + lease, token)
  for first = 1, #writes, CHUNK do
    redis.call('MSET', unpack(writes, first,
      math.min(first + CHUNK - 1, #writes)))
  end
  if not hash_usable then
    -- Not a hash: replaced, as MSET replaces a flux.last key of another type.
    redis.call('DEL', LAST_HASH)
  end
  for first = 1, #entry_writes, CHUNK do
    redis.call('HSET', LAST_HASH, unpack(entry_writes, first,
      math.min(first + CHUNK - 1, #entry_writes)))
  end
end
-- The request's counts, with its duplicates, once it is decided: a
-- request with a waiting point runs the script again.
if not (apply and waiting) then
  local duplicates = 0
  for i = 1, npoints do
    if reply[2 + REPLY_PER_POINT * (i - 1)] == DUPLICATE then
      duplicates = duplicates + 1
    end
  end
  if duplicates > 0 and duplicates_field ~= '' then
    stats_spec = stats_spec .. ' ' .. duplicates_field .. ' ' .. duplicates
  end
  count_stats(STATS, stats_spec, stats_delivery)
end
reply[1] = table.concat(met_pending, ' ')
return reply
