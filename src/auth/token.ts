// token.ts is the secret half of enterprise auth: token strings are made of
// the token's name and 32 random bytes (base64), only a salted SHA-256 of the
// secret is stored, and a presented secret is compared in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** TokenHash is what the admin store keeps of a token's secret. */
export interface TokenHash {
  /** salt is 16 random bytes, base64. */
  salt: string;
  /** hash is SHA-256(salt || secret), base64. */
  hash: string;
}

/** ParsedToken is a presented token string split into the token's name and its secret. */
export interface ParsedToken {
  name: string;
  secret: string;
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

/** hashSecret salts and hashes a secret. */
export function hashSecret(secret: string): TokenHash {
  const salt = randomBytes(16);
  return { salt: salt.toString('base64'), hash: digest(salt, secret).toString('base64') };
}

/** secretMatches compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, stored: TokenHash): boolean {
  const want = Buffer.from(stored.hash, 'base64');
  const got = digest(Buffer.from(stored.salt, 'base64'), secret);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** newToken makes the token string handed out once for token `name`, and its secret. */
export function newToken(name: string): { token: string; secret: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: Buffer.from(`${name}:${secret}`, 'utf8').toString('base64'), secret };
}

/** parseToken splits a presented token string; undefined when it is not one of ours. */
export function parseToken(token: string): ParsedToken | undefined {
  if (token === '' || !/^[A-Za-z0-9+/=_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) return undefined;
  return { name: text.slice(0, i), secret: text.slice(i + 1) };
}
