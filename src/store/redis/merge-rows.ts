/**
 * The merged row update of rows.redis.update=merge (issue 16): a trainer sends, per row, the block
 * it pulled before its step (`old`) and the block after it (`new`); a Lua script in Redis applies
 * the step's change to the row as it is now (`cur`), atomically (a script runs alone on its node):
 *
 *   cur absent or cur == old (byte for byte; nobody wrote the row since the pull): cur <- new
 *   else, per field (row-access.ts's block layout):
 *     weights, float32 momentum:  cur <- f32(cur + (new - old))          (float64 arithmetic, one rounding)
 *     bfloat16 momentum:          cur <- bf16(cur + (new - old))         (values widened exactly, rounded to
 *                                 float32 then to nearest-even bfloat16: weight-dtype.ts toBf16, same bits)
 *     update count:               cur <- cur + (new - old)               (uint16 saturating at 0..65535 with
 *                                 bfloat16 momentum, int32 with float32)
 *     lastStep:                   cur <- max(cur, new)
 *
 * So a row two trainers step in the same moment keeps both steps: each one's weight change (Lion's
 * lr sign(c) per coordinate) and momentum change ((1 - beta2)(g - m_old)) add, as two deltas of an
 * asynchronous parameter server do, instead of the later write replacing the earlier. One trainer
 * alone (cur == old always) writes exactly the row it computed: bit for bit the local store's.
 * Lua numbers are float64; struct.pack('<f', x) rounds to float32 as Math.fround does (nearest, ties
 * to even), so the script and mergeRowBlock (the TypeScript reference below, which the tests hold it
 * to bit for bit) compute the same words. Cost: the old block travels too (twice the bytes of an
 * overwrite), the comparison is one interned-string equality in Lua; the field merge only runs on
 * a conflict (counted: RedisRowStats.rowsMerged).
 * @module
 */
import { fromBf16, toBf16 } from '../../model/weight-dtype.ts';

/**
 * KEYS: rows of one hash slot (RedisRowAccess sends one). ARGV: W, momentum ('f' float32 | 'b' bfloat16),
 * PX ms (0: no expiry), then per key its old and its new block. Returns the number of rows merged (cur
 * neither absent nor old).
 * Every value's size is checked before any row is written: a wrong size is an error reply naming the key.
 */
export const MERGE_ROWS_LUA = `
local W, px = tonumber(ARGV[1]), tonumber(ARGV[3])
local bf = ARGV[2] == 'b'
local H = math.ceil((W + 1) / 2)
local B = 4 * (bf and (W + H + 1) or (2 * W + 2))
local function merge(cur, old, new)
  local fmt = bf and ('<' .. string.rep('f', W) .. string.rep('H', 2 * H) .. 'i4')
    or ('<' .. string.rep('f', 2 * W) .. 'i4i4')
  local c, o, w = {struct.unpack(fmt, cur)}, {struct.unpack(fmt, old)}, {struct.unpack(fmt, new)}
  local out = {}
  if not bf then
    for j = 1, 2 * W do out[j] = c[j] + (w[j] - o[j]) end
    out[2 * W + 1] = math.max(c[2 * W + 1], w[2 * W + 1])
    out[2 * W + 2] = math.min(2147483647, math.max(-2147483648, c[2 * W + 2] + (w[2 * W + 2] - o[2 * W + 2])))
    return struct.pack(fmt, unpack(out))
  end
  -- bfloat16 bits -> value, exactly (sign, 8 exponent bits, 7 mantissa bits)
  local function b2f(h)
    local e, m = math.floor(h / 128) % 256, h % 128
    local v
    if e == 255 then v = (m == 0) and math.huge or (0 / 0)
    elseif e == 0 then v = math.ldexp(m, -133)
    else v = math.ldexp(128 + m, e - 134) end
    if h >= 32768 then return -v end
    return v
  end
  -- value -> float32 bits -> bfloat16 bits, nearest even (NaN: quiet, as weight-dtype.ts toBf16)
  local function f2b(x)
    local b = struct.unpack('<I4', struct.pack('<f', x))
    local hi = math.floor(b / 65536)
    if b % 2147483648 > 2139095040 then
      if math.floor(hi / 64) % 2 == 0 then return hi + 64 end
      return hi
    end
    return math.floor((b + 32767 + hi % 2) / 65536) % 65536
  end
  for j = 1, W do out[j] = c[j] + (w[j] - o[j]) end
  for j = W + 1, 2 * W do out[j] = f2b(b2f(c[j]) + (b2f(w[j]) - b2f(o[j]))) end
  out[2 * W + 1] = math.min(65535, math.max(0, c[2 * W + 1] + (w[2 * W + 1] - o[2 * W + 1])))
  for j = 2 * W + 2, W + 2 * H do out[j] = w[j] end
  out[W + 2 * H + 1] = math.max(c[W + 2 * H + 1], w[W + 2 * H + 1])
  return struct.pack(fmt, unpack(out))
end
local cur = {}
for i = 1, #KEYS do
  local old, new = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  if not old or not new or #old ~= B or #new ~= B then
    return redis.error_reply('ERR lionctr merge: the blocks sent for ' .. KEYS[i] .. ' are not ' .. B .. ' bytes')
  end
  cur[i] = redis.call('GET', KEYS[i])
  if cur[i] and #cur[i] ~= B then
    return redis.error_reply('ERR lionctr merge: row ' .. KEYS[i] .. ' has ' .. #cur[i] .. ' bytes, the model ' .. B)
  end
end
local merged = 0
for i = 1, #KEYS do
  local old, new = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local out = new
  if cur[i] and cur[i] ~= old then
    out = merge(cur[i], old, new)
    merged = merged + 1
  end
  if px > 0 then redis.call('SET', KEYS[i], out, 'PX', px) else redis.call('SET', KEYS[i], out) end
end
return merged
`;

/** Words of a row block of width W (row-access.ts layout). */
export function strideOfLayout(W: number, momentum: 'float32' | 'bfloat16'): number {
  return momentum === 'bfloat16' ? W + Math.ceil((W + 1) / 2) + 1 : 2 * W + 2;
}

/**
 * What the script writes for one row (the module doc's rule), in TypeScript: the reference the tests
 * hold the script to, bit for bit. Blocks are little-endian words as Int32Array [stride] (views of the
 * same layout); `cur` null = the row is absent.
 * @returns a new block; `new` copied when cur is null or equals old word for word.
 */
export function mergeRowBlock(
  cur: Int32Array | null,
  old: Int32Array,
  next: Int32Array,
  W: number,
  momentum: 'float32' | 'bfloat16',
): Int32Array {
  const out = next.slice();
  if (!cur || cur.every((v, i) => v === old[i])) return out;
  const f = (a: Int32Array) => new Float32Array(a.buffer, a.byteOffset, a.length);
  const h = (a: Int32Array) => new Uint16Array(a.buffer, a.byteOffset, 2 * a.length);
  const [c, o, n, r] = [cur, old, next, out].map(f);
  const nw = momentum === 'bfloat16' ? W : 2 * W;
  for (let j = 0; j < nw; j++) r[j] = c[j] + (n[j] - o[j]);
  if (momentum === 'float32') {
    out[2 * W] = Math.max(cur[2 * W], next[2 * W]);
    out[2 * W + 1] = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), cur[2 * W + 1] + (next[2 * W + 1] - old[2 * W + 1])));
    return out;
  }
  const [hc, ho, hn, hr] = [cur, old, next, out].map(h),
    m0 = 2 * W;
  for (let j = 0; j < W; j++) hr[m0 + j] = toBf16(fromBf16(hc[m0 + j]) + (fromBf16(hn[m0 + j]) - fromBf16(ho[m0 + j])));
  hr[m0 + W] = Math.min(0xffff, Math.max(0, hc[m0 + W] + (hn[m0 + W] - ho[m0 + W])));
  const last = out.length - 1;
  out[last] = Math.max(cur[last], next[last]);
  return out;
}
