import { createHmac, createSign, type KeyObject, sign } from 'node:crypto';

/** A JOSE header or JWT claims set, as an attacker may write it. */
export type Json = Record<string, unknown>;

const encode = (part: Json | string) =>
  Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');

/** The `header.payload` signing input of a compact JWS. */
export const signingInput = (header: Json, payload: Json) => `${encode(header)}.${encode(payload)}`;

/** A compact JWS with `signature` (base64url) as given, even empty. */
export const withSignature = (header: Json, payload: Json, signature: string) =>
  `${signingInput(header, payload)}.${signature}`;

/** An HMAC-signed JWS; the header's `alg` is written as given, whatever `hash` is. */
export function hmacToken(
  header: Json,
  payload: Json,
  secret: string | Uint8Array,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = signingInput(header, payload);
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** An RS256-signed JWS with `key`. */
export function rsaToken(header: Json, payload: Json, key: KeyObject): string {
  const input = signingInput(header, payload);
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key, 'base64url')}`;
}

/** An ES256-signed JWS with `key` (raw r||s signature, as JWS wants it). */
export function ecToken(header: Json, payload: Json, key: KeyObject): string {
  const input = signingInput(header, payload);
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Base64url of text, for hand-made token parts. */
export const part = (text: string) => encode(text);
