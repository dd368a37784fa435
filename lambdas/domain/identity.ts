import type { User } from '../../protocol/messages.js';

/**
 * Who is calling, as established by the `$connect` authorizer.
 * API Gateway hands the authorizer's context to every later route of the
 * connection, so message routes know the caller without a database read.
 */
export interface Identity {
  readonly userId: string;
  readonly name: string;
  /** Room patterns of the token's `rooms` claim; `null` when absent (every room). */
  readonly rooms: readonly string[] | null;
  /** The connect token's `exp`, seconds since the epoch. */
  readonly exp: number;
}

/**
 * The authorizer context. API Gateway allows only string, number and boolean
 * values there, so the rooms array travels as JSON text.
 */
export interface AuthorizerContext {
  readonly sub: string;
  readonly name: string;
  /** JSON array of patterns, or "" when the claim was absent. */
  readonly rooms: string;
  readonly exp: number;
}

/** Encodes an identity for the authorizer's response context. */
export function toAuthorizerContext(identity: Identity): AuthorizerContext {
  return {
    sub: identity.userId,
    name: identity.name,
    rooms: identity.rooms === null ? '' : JSON.stringify(identity.rooms),
    exp: identity.exp,
  };
}

/**
 * Decodes the context API Gateway passes to a route. Values may arrive as
 * strings even when the authorizer returned numbers, so both are accepted.
 * Returns `undefined` when the context is missing or malformed.
 */
export function identityFromContext(context: unknown): Identity | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const { sub, name, rooms, exp } = context as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.length === 0) return undefined;
  const expiry = typeof exp === 'string' ? Number(exp) : exp;
  if (typeof expiry !== 'number' || !Number.isFinite(expiry)) return undefined;
  const patterns = decodeRooms(rooms);
  if (patterns === undefined) return undefined;
  return {
    userId: sub,
    name: typeof name === 'string' && name ? name : sub,
    rooms: patterns,
    exp: expiry,
  };
}

/** The public view of an identity. */
export function userOf(identity: Pick<Identity, 'userId' | 'name'>): User {
  return { userId: identity.userId, name: identity.name };
}

function decodeRooms(rooms: unknown): readonly string[] | null | undefined {
  if (rooms === undefined || rooms === '') return null;
  if (typeof rooms !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(rooms);
    return Array.isArray(parsed)
      ? parsed.filter((p): p is string => typeof p === 'string')
      : undefined;
  } catch {
    return undefined;
  }
}
