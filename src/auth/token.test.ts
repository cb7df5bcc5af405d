// token.test.ts checks the token secrets: a token string carries its name
// and secret, only a salted hash is kept (two hashes of one secret differ),
// and only the exact secret matches.

import t from 'tap';
import { hashSecret, newToken, parseToken, secretMatches } from './token.js';

t.test('token strings, salted hashes, comparison', async (t) => {
  const { token, secret } = newToken('my-token');
  t.same(parseToken(token), { name: 'my-token', secret });
  t.equal(secret.length, 43, '32 random bytes, base64url');
  t.not(newToken('my-token').secret, secret, 'secrets are random');
  const h1 = hashSecret(secret);
  const h2 = hashSecret(secret);
  t.not(h1.hash, h2.hash, 'salted: the same secret hashes differently');
  t.notOk(JSON.stringify(h1).includes(secret));
  t.ok(secretMatches(secret, h1));
  t.ok(secretMatches(secret, h2));
  t.notOk(secretMatches(secret + 'x', h1));
  t.notOk(secretMatches(secret.slice(0, -1), h1));
  t.notOk(secretMatches('', h1));
  for (const bad of ['', 'not base64 !', Buffer.from('no-colon').toString('base64'), Buffer.from(':secret').toString('base64'), Buffer.from('name:').toString('base64')]) {
    t.equal(parseToken(bad), undefined, JSON.stringify(bad));
  }
});
