//! The Lua scripts that make each compound operation one atomic step on the
//! server (Redis runs a script with no other command in between).
//!
//! Every script that writes stamps the entry with the next value of the
//! table's clock (so versions only grow, across processes and across
//! removal) and publishes the field on the table's channel (see
//! [`changes`](super::changes)).
//!
//! KEYS for the entry scripts: 1 data hash, 2 versions hash, 3 spellings
//! hash, 4 clock. ARGV 1 is the field, 2 the prefix of key channels (the
//! key's channel is the prefix followed by the field).

use once_cell::sync::Lazy;
use redis::Script;

/// The next value of the table's clock, as `v`. A clock that starts (INCR
/// answered 1: a new table, or one whose data another process deleted while
/// this one stays attached) jumps to the server's time in microseconds, so
/// versions keep growing across a deletion: a version read before it can
/// never be issued again to a later write (which would let an Update in
/// flight overwrite that write, or a wait for a newer version miss it).
/// The clock grows by one per write, far slower than a microsecond clock,
/// and stays below 2^53 (exact in Lua) for centuries.
macro_rules! tick {
    () => {
        concat!(clock_step!("1"), "v = string.format('%d', v)\n")
    };
}

/// The clock moved on by `$step` (a Lua expression) steps, its new value as
/// the number `v`; the steps are the versions `v - $step + 1` to `v`. The
/// clock starts (the answer equals the step) with the jump `tick!` explains.
macro_rules! clock_step {
    ($step:literal) => {
        concat!(
            "local v = redis.call('INCRBY', KEYS[4], ", $step, ")\n",
            "if v == ", $step, " then local t = redis.call('TIME'); v = redis.call('INCRBY', KEYS[4], string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))) end\n"
        )
    };
}

/// The shared tail of every write: version, spelling, wake-up. `spelling`
/// is the ARGV index of the spelling to keep ('' when the field keeps it);
/// `added` a Lua condition true when this write created the field (the only
/// time a spelling is written: every command costs the server time, and an
/// existing field has its spelling already). A condition that is true for an
/// existing field too costs one idle HSETNX, never a wrong spelling.
macro_rules! stamp {
    ($spelling:literal, $added:literal) => {
        concat!(
            tick!(),
            "redis.call('HSET', KEYS[2], ARGV[1], v)\n",
            "if (", $added, ") and ARGV[", $spelling, "] ~= '' then redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[", $spelling, "]) end\n",
            "redis.call('PUBLISH', ARGV[2] .. ARGV[1], '1')\n"
        )
    };
}

/// Value and version, read together. Returns {value|nil, version|nil}.
pub static READ: Lazy<Script> = Lazy::new(|| Script::new("return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}"));

/// ARGV 3 value, 4 spelling. Returns the version.
pub static PUT: Lazy<Script> = Lazy::new(|| Script::new(concat!("local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n", stamp!("4", "added == 1"), "return v")));

/// A batch of puts (Import-SyncTable) as one atomic step with a handful of
/// commands instead of five per entry: every command a script calls costs the
/// server a few microseconds, and an import of 100,000 entries through a
/// per-entry script took about 2 s on a 2-core VM (about 1.2 s this way).
/// ARGV 1 the table's `all` channel, then per entry field, value, spelling.
/// The entries get consecutive versions from one `clock_step!`; a field named
/// twice keeps the last value and, as a loop of puts would, the first
/// spelling; one message on the `all` channel wakes every waiter of the table
/// to look again (the same wake-up a Clear sends). Lua's `unpack` takes some
/// thousands of values, so batches stay at a thousand entries. Returns the
/// number of entries.
pub static PUT_MANY: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local n = (#ARGV - 1) / 3
if n < 1 then return 0 end
",
        clock_step!("n"),
        "local data, versions, named, spelled = {}, {}, {}, {}
for i = 0, n - 1 do
  local field, spelling = ARGV[2 + 3 * i], ARGV[4 + 3 * i]
  data[#data + 1] = field
  data[#data + 1] = ARGV[3 + 3 * i]
  versions[#versions + 1] = field
  versions[#versions + 1] = string.format('%d', v - n + i + 1)
  if spelling ~= '' and not spelled[field] then
    spelled[field] = spelling
    named[#named + 1] = field
  end
end
redis.call('HSET', KEYS[1], unpack(data))
redis.call('HSET', KEYS[2], unpack(versions))
if #named > 0 then
  local kept = redis.call('HMGET', KEYS[3], unpack(named))
  local spellings = {}
  for j = 1, #named do
    if not kept[j] then
      spellings[#spellings + 1] = named[j]
      spellings[#spellings + 1] = spelled[named[j]]
    end
  end
  if #spellings > 0 then redis.call('HSET', KEYS[3], unpack(spellings)) end
end
redis.call('PUBLISH', ARGV[1], '*')
return n"
    ))
});

/// Returns {old value, old version}, or nil when the key was absent.
pub static DELETE: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return false end
local version = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
",
        tick!(),
        "redis.call('PUBLISH', ARGV[2] .. ARGV[1], '1')
return {old, version}"
    ))
});

/// ARGV 1 is unused, 2 the table's `all` channel.
pub static CLEAR: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
",
        tick!(),
        "redis.call('PUBLISH', ARGV[2], '*')
return 1"
    ))
});

/// ARGV 3 the delta's kind ('i' integer, 'f' double), 4 the delta as
/// decimal text, 5 spelling. Returns {'i', sum as text} or {'f', sum as
/// text}; {'n', tag} when the value is not a number; {'o'} when an integer
/// sum would overflow (then nothing changed). Integer + integer is the
/// server's own HINCRBY (exact 64-bit arithmetic); anything with a double is
/// a double, as in the in-process table.
///
/// Lua holds HINCRBY's reply as a double, exact only below 2^53 in size (and
/// `tostring` prints 14 digits), so a larger sum is read back as the text the
/// server stored.
pub static INCREMENT: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local out
local cur
local added
if ARGV[3] == 'i' then
  -- An integer delta goes straight to HINCRBY (no read first). It refuses an
  -- integer sum that would overflow, and a value that is not an integer,
  -- which the general path below then handles.
  local sum = redis.pcall('HINCRBY', KEYS[1], ARGV[1], ARGV[4])
  if type(sum) == 'table' and sum.err then
    cur = redis.call('HGET', KEYS[1], ARGV[1])
    if cur and string.match(cur, '^%-?%d+$') then return {'o'} end
  else
    if sum > -9007199254740992 and sum < 9007199254740992 then
      out = {'i', string.format('%d', sum)}
    else
      out = {'i', redis.call('HGET', KEYS[1], ARGV[1])}
    end
    -- A new field sums to the delta; so may an existing one (then the
    -- spelling write finds its spelling and does nothing).
    added = sum == tonumber(ARGV[4])
  end
else
  cur = redis.call('HGET', KEYS[1], ARGV[1])
end
if not out then added = not cur end
if not out then
  local is_int = (not cur) or string.match(cur, '^%-?%d+$')
  local base
  if not cur then base = 0
  elseif is_int then base = tonumber(cur)
  elseif string.sub(cur, 1, 1) == 'f' then base = tonumber(string.sub(cur, 2))
  end
  if base == nil then return {'n', string.sub(cur, 1, 1)} end
  local text = string.format('%.17g', base + tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], ARGV[1], 'f' .. text)
  out = {'f', text}
end
",
        stamp!("5", "added"),
        "return out"
    ))
});

/// ARGV 3 expected value, 4 replacement, 5 spelling. Returns 1 if swapped.
/// Doubles written by Rust and by the increment script may spell one number
/// two ways ('3.0', '3'; 'NaN', 'nan', '-nan'), so doubles compare as
/// numbers, the way the in-process table compares them (by their bits, as
/// far as the text keeps them): NaN matches NaN (else a CAS loop on a NaN
/// spins for ever) and 0.0 does not match -0.0 (1/0 and 1/-0 differ).
pub static COMPARE_EXCHANGE: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if cur ~= ARGV[3] then
  if not (string.sub(cur, 1, 1) == 'f' and string.sub(ARGV[3], 1, 1) == 'f') then return 0 end
  local a, b = tonumber(string.sub(cur, 2)), tonumber(string.sub(ARGV[3], 2))
  if a == nil or b == nil then return 0 end
  if a ~= a or b ~= b then
    if a == a or b == b then return 0 end
  elseif a ~= b or (a == 0 and 1 / a ~= 1 / b) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
",
        stamp!("5", "false"),
        "return 1"
    ))
});

/// ARGV 3 value, 4 spelling. Returns {1 if added, value now stored, its version}.
pub static GET_OR_ADD: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {0, cur, redis.call('HGET', KEYS[2], ARGV[1])} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
",
        stamp!("4", "true"),
        "return {1, ARGV[3], v}"
    ))
});

/// ARGV 3 expected version ('' = expect the key absent), 4 value, 5
/// spelling. Returns 1 if written (the basis of Update's retry loop).
pub static REPLACE_IF_VERSION: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!(
        "local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if ARGV[3] == '' then
  if exists == 1 then return 0 end
elseif exists == 0 or redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
",
        stamp!("5", "exists == 0"),
        "return 1"
    ))
});

/// KEYS 1 the lock. ARGV 1 the holder's token, 2 expiry in ms. Returns {1}
/// when the caller holds the lock now (also when it already did: a retried
/// attempt whose first reply was lost), otherwise {0, ms until it expires}.
pub static LOCK: Lazy<Script> = Lazy::new(|| {
    Script::new(
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
return {0, redis.call('PTTL', KEYS[1])}",
    )
});

/// KEYS the locks to renew; ARGV 1 the expiry in ms, then each lock's
/// holder token. Extends each lock still held under its token; returns,
/// per lock, 1 if extended and 0 if the server no longer held it so.
pub static RENEW: Lazy<Script> = Lazy::new(|| {
    Script::new(
        "local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out",
    )
});

/// KEYS 1 the lock. ARGV 1 the holder's token, 2 the lock's channel. Returns 1 if
/// the caller still held it (and now released it), 0 if it had expired.
pub static UNLOCK: Lazy<Script> = Lazy::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'unlock')
  return 1
end
return 0",
    )
});

/// KEYS 1 the info hash. ARGV 1 '1' for case-sensitive keys. Records how a
/// new table compares keys; returns how the table (new or not) does.
pub static ATTACH: Lazy<Script> = Lazy::new(|| {
    Script::new(
        "redis.call('HSETNX', KEYS[1], 'case_sensitive', ARGV[1])
redis.call('HSETNX', KEYS[1], 'format', '1')
return redis.call('HGET', KEYS[1], 'case_sensitive')",
    )
});
