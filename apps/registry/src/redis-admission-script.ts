/**
 * The admission of one request of an API key, atomic in Redis: the same rule as
 * `LocalKeyLimits` (see `rate-window.ts`) over a hash of seconds per window (fields
 * older than 60 s are dropped as they are read) and a sorted set of the open
 * requests, scored by their start (a replica that dies leaves its requests there
 * until the lease ends).
 *
 * KEYS: requests hash, tokens hash, open-requests sorted set.
 * ARGV: now (ms), rpm, tpm, maxConcurrent (0: none), request id, lease (ms).
 * Returns: verdict (`ok`, `requests`, `tokens`, `concurrent`), requests used,
 * their oldest second (-1: none), tokens used, their oldest second, open requests:
 * each as counted before this request.
 */
export const admissionScript = `
local now = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local maxConcurrent = tonumber(ARGV[4])
local lease = tonumber(ARGV[6])
local second = math.floor(now / 1000)
local function window(key)
  local flat = redis.call('HGETALL', key)
  local total = 0
  local oldest = -1
  for index = 1, #flat, 2 do
    local at = tonumber(flat[index])
    if at <= second - 60 then
      redis.call('HDEL', key, flat[index])
    else
      total = total + tonumber(flat[index + 1])
      if oldest == -1 or at < oldest then oldest = at end
    end
  end
  return total, oldest
end
local requests, requestsOldest = 0, -1
if rpm > 0 then requests, requestsOldest = window(KEYS[1]) end
local tokens, tokensOldest = 0, -1
if tpm > 0 then tokens, tokensOldest = window(KEYS[2]) end
local open = 0
if maxConcurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - lease)
  open = redis.call('ZCARD', KEYS[3])
end
local verdict = 'ok'
if rpm > 0 and requests >= rpm then verdict = 'requests'
elseif tpm > 0 and tokens >= tpm then verdict = 'tokens'
elseif maxConcurrent > 0 and open >= maxConcurrent then verdict = 'concurrent' end
if verdict == 'ok' then
  if rpm > 0 then
    redis.call('HINCRBY', KEYS[1], second, 1)
    redis.call('PEXPIRE', KEYS[1], 61000)
  end
  if maxConcurrent > 0 then
    redis.call('ZADD', KEYS[3], now, ARGV[5])
    redis.call('PEXPIRE', KEYS[3], lease)
  end
end
return {verdict, requests, requestsOldest, tokens, tokensOldest, open}
`;
