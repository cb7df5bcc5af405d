// shard.test.ts checks the ring keys Mimir's sharding uses that are computed
// here: a block's key (HashBlockID), a tenant's compactor key and a tenant's
// shuffle-shard seed, against values Go's hash/fnv, oklog/ulid and
// crypto/md5 give for the same input.

import t from 'tap';
import { blockToken, fnv1aKey, shuffleShardSeed } from './shard.js';

t.test('blockToken is FNV-1 over the ULID bytes, as Mimir HashBlockID', async (t) => {
  // From `fnv.New32().Write(ulid.MustParse(s)[:])` in Go.
  t.equal(blockToken('01JAAAAAAAAAAAAAAAAAAAAAAA'), 3140617836);
  t.equal(blockToken('01HZX3Q6W8Y2K5N0P9R7T4V1MC'), 3144353294);
  t.equal(blockToken('7ZZZZZZZZZZZZZZZZZZZZZZZZZ'), 4230643797);
  t.equal(blockToken('01hzx3q6w8y2k5n0p9r7t4v1mc'), 3144353294, 'lower case reads the same');
  t.throws(() => blockToken('01HZX3Q6W8Y2K5N0P9R7T4V1M'), /not a ULID/);
  t.throws(() => blockToken('01HZX3Q6W8Y2K5N0P9R7T4V1MU'), /not a ULID/, 'U is not Crockford base32');
});

t.test("fnv1aKey is FNV-1a over the tenant's UTF-8 bytes, as Mimir's compactor", async (t) => {
  // From `fnv.New32a().Write([]byte(s))` in Go.
  t.equal(fnv1aKey('tenant-a'), 2469604731);
  t.equal(fnv1aKey('team'), 2734521612);
  t.equal(fnv1aKey('ünïcode-tenant'), 2647887706);
});

t.test("shuffleShardSeed is dskit's ShuffleShardSeed", async (t) => {
  // From dskit's ShuffleShardSeed (int64(binary.BigEndian.Uint64(md5(identifier [+ "\x00" + zone])))) in Go 1.26.
  t.equal(shuffleShardSeed('tenant-a', ''), -3380867882834763730n);
  t.equal(shuffleShardSeed('user-1', ''), -2965778325353760010n);
  t.equal(shuffleShardSeed('', ''), -3162216497309240828n);
  t.equal(shuffleShardSeed('tenant-a', 'zone-a'), -3896296730063314590n);
  t.equal(shuffleShardSeed('tenant-a', 'zone-b'), 2847410558678355172n);
  t.equal(shuffleShardSeed('ünïcode-tenant', ''), 5893184155176919915n);
});
