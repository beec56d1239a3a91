// The Lua scripts the store runs on Redis. Each runs atomically (Redis runs one script at a time), and reads time from
// Redis `TIME`, so every replica's buckets refill on one clock. Bucket state is a hash { tokens, at } (at: ms on the
// Redis clock); a missing bucket is a full one, and a bucket's key expires once it would have refilled completely.

/** Shared prelude: `now` in ms (fractional) on the Redis clock. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/** `level(i, rate, cap, missing)`: bucket i's tokens at `now`; `missing` (default: full) when it has no state. */
const LEVEL = `
local function level(i, rate, cap, missing)
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  if not state[1] or not state[2] then return missing or cap end
  local elapsed = now - tonumber(state[2])
  if elapsed < 0 then elapsed = 0 end
  return math.min(cap, tonumber(state[1]) + elapsed * rate / 1000)
end
local function save(i, rate, cap, tokens)
  redis.call('HSET', KEYS[i], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil((cap - tokens) * 1000 / rate) + 1000)
end
`;

/**
 * KEYS: one bucket per distinct key. ARGV: rate, capacity, cost, and the tokens of a bucket with no state ("full", or
 * "0" for a replica back from an outage: the Redis may have restarted empty while the providers' buckets were being
 * spent) per key. A cost above the capacity is granted once the bucket is full, leaving it in debt, as the pool's local
 * store does. Returns { granted (1|0), retryInMs, tokens... } with the tokens as strings (a Lua number reply would lose
 * its fraction). A new bucket is saved even when the take is refused, so that its starting level holds for everyone.
 */
export const TAKE_SCRIPT = `${NOW}${LEVEL}
local n = #KEYS
local tokens = {}
local retry = 0
for i = 1, n do
  local rate = tonumber(ARGV[4 * i - 3])
  local cap = tonumber(ARGV[4 * i - 2])
  local cost = tonumber(ARGV[4 * i - 1])
  local missing = tonumber(ARGV[4 * i])
  tokens[i] = level(i, rate, cap, missing)
  if missing and redis.call('EXISTS', KEYS[i]) == 0 then save(i, rate, cap, tokens[i]) end
  local short = math.min(cost, cap) - tokens[i]
  if short > 1e-9 then
    local wait = math.ceil(short * 1000 / rate)
    if wait > retry then retry = wait end
  end
end
if retry == 0 then
  for i = 1, n do
    local rate = tonumber(ARGV[4 * i - 3])
    local cap = tonumber(ARGV[4 * i - 2])
    tokens[i] = tokens[i] - tonumber(ARGV[4 * i - 1])
    save(i, rate, cap, tokens[i])
  end
end
local reply = { retry == 0 and 1 or 0, retry }
for i = 1, n do reply[i + 2] = tostring(tokens[i]) end
return reply
`;

/** KEYS and ARGV as for TAKE_SCRIPT: gives each cost back, never above the capacity. */
export const REFUND_SCRIPT = `${NOW}${LEVEL}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[4 * i - 3])
  local cap = tonumber(ARGV[4 * i - 2])
  local missing = tonumber(ARGV[4 * i])
  save(i, rate, cap, math.min(cap, level(i, rate, cap, missing) + tonumber(ARGV[4 * i - 1])))
end
return 1
`;

/**
 * KEYS: the hold's key, the index set of held endpoint ids. ARGV: endpoint id, "kind:untilWallMs", untilWallMs.
 * The key expires at untilWallMs (on the Redis clock); a hold never shortens a later one already there.
 */
export const HOLD_SCRIPT = `${NOW}
local untilMs = tonumber(ARGV[3])
local current = redis.call('GET', KEYS[1])
if current then
  local currentUntil = tonumber(string.match(current, ':(.*)$'))
  if currentUntil and currentUntil >= untilMs then return 0 end
end
local ttl = math.ceil(untilMs - now)
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('SADD', KEYS[2], ARGV[1])
local indexTtl = redis.call('PTTL', KEYS[2])
if indexTtl < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

/**
 * KEYS: the index set of held endpoint ids. ARGV: the prefix of hold keys. Returns { id, "kind:untilWallMs", ... } for
 * every live hold, and drops expired ids from the index. (Hold keys are named from the index, so this store wants a
 * single Redis server, not Redis Cluster.)
 */
export const HOLDS_SCRIPT = `
local ids = redis.call('SMEMBERS', KEYS[1])
local reply = {}
for _, id in ipairs(ids) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then
    reply[#reply + 1] = id
    reply[#reply + 1] = value
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return reply
`;

/**
 * KEYS: the sorted set of replicas (score: when the heartbeat expires, on the Redis clock). ARGV: replica id, ttl ms.
 * Renews this replica, drops the expired ones, returns how many are live.
 */
export const HEARTBEAT_SCRIPT = `${NOW}
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
`;
