/**
 * Server hooks: your own code, bundled at synth into the `$connect`,
 * `$disconnect`, `join` and `send` functions of a `RealtimeApi`. Published as
 * `serverless-websocket-backend/hooks`, so this file imports nothing.
 *
 * @example
 * import type { RealtimeHooks } from 'serverless-websocket-backend/hooks';
 *
 * export const hooks: RealtimeHooks = {
 *   // Team rooms are for their team only.
 *   authorizeJoin: ({ user, room }) => !room.startsWith('team.') || room === `team.${user.id}`,
 *   beforeSend: ({ data }) =>
 *     typeof data === 'string' && data.includes('spam') ? { reject: 'No spam, please.' } : undefined,
 * };
 */

/** A value or a promise of it: every hook may be synchronous or `async`. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Who is calling, as the `$connect` authorizer established from the token.
 * Later routes receive it from API Gateway, so it stays the connect token's
 * identity for the life of the connection (an `auth` renewal changes only
 * the expiry).
 */
export interface HookUser {
  /** The token's `sub`: the user id other clients see as `userId`. */
  readonly id: string;
  /** The token's `name` claim, or the `sub` when it had none. */
  readonly name: string;
  /**
   * The room patterns of the token's `rooms` claim; `null` when the token
   * had none, which allows every room. The server has already refused any
   * room these patterns do not allow before a hook is asked.
   */
  readonly rooms: readonly string[] | null;
}

/** What `authorizeJoin` is asked about. */
export interface AuthorizeJoinInput {
  readonly user: HookUser;
  /** A room name the token's `rooms` claim allows. */
  readonly room: string;
}

/** What `beforeSend` is asked about. */
export interface BeforeSendInput {
  readonly user: HookUser;
  /** A room the connection has joined. */
  readonly room: string;
  /**
   * The message's `data`, any JSON value. A copy: changing it in place
   * changes nothing, return `{ data }` to replace it.
   */
  readonly data: unknown;
}

/**
 * What `beforeSend` decides:
 * - `undefined` (or nothing): the message is stored and delivered as sent;
 * - `{ data }`: that data is stored and delivered instead. It obeys the rules
 *   of sent data: a JSON value (null, booleans, finite numbers, strings,
 *   arrays and plain objects of those) of at most `MAX_DATA_BYTES` serialized,
 *   otherwise the sender gets `too_large` (over the size) or `internal` (not
 *   a JSON value);
 * - `{ reject: reason }`: the send is refused with `forbidden`, `reason`
 *   being the error frame's `message` (people read it: no internal detail).
 */
export type BeforeSendResult =
  | { readonly data: unknown }
  | { readonly reject: string }
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a hook that returns nothing type-check.
  | void;

/** What `onConnect` and `onDisconnect` are told. */
export interface ConnectionHookInput {
  readonly user: HookUser;
  /** API Gateway's id of the connection. */
  readonly connectionId: string;
}

/**
 * Your server hooks, each optional; export them as `hooks` from the module
 * named by the construct's `hooks.entry`.
 *
 * Every call runs inside the function serving the request, within a time
 * budget (the construct's `hooks.timeout`, default 3 s). A call that throws,
 * rejects or has not answered within the budget fails: `authorizeJoin` and
 * `beforeSend` then refuse that request with `internal` and it changes
 * nothing; an `onConnect` or `onDisconnect` failure is logged, and the
 * connection or disconnection stands. A hook that blocks the event loop
 * cannot be interrupted, but its answer is not used once past the budget.
 * Hooks are not asked about `leave`, `typing`, `direct`, `history`, `auth`,
 * `ping` or server-side `publish`.
 */
export interface RealtimeHooks {
  /**
   * Decides whether `user` may join `room`; `false` refuses the join with
   * `forbidden`. Asked before the join writes anything, so it may be asked
   * about a join then refused for another reason (rate limit, expired token,
   * the connection's room limit): decide, do not act.
   */
  readonly authorizeJoin?: (input: AuthorizeJoinInput) => MaybePromise<boolean>;
  /**
   * Refuses, replaces or keeps a message's `data` (see {@link BeforeSendResult}).
   * Asked once the server would accept the send (the connection has joined
   * the room), before the message takes a sequence number, is stored or is
   * delivered.
   */
  readonly beforeSend?: (input: BeforeSendInput) => MaybePromise<BeforeSendResult>;
  /**
   * Told once a connection is stored. The handshake completes only after
   * `$connect` answers, so nothing can be sent to the connection from here,
   * and a slow hook delays the handshake.
   */
  readonly onConnect?: (input: ConnectionHookInput) => MaybePromise<void>;
  /**
   * Told once a closed connection and its memberships are removed. API
   * Gateway delivers `$disconnect` on a best-effort basis: a connection that
   * vanished without it is removed later by the server, unannounced here.
   */
  readonly onDisconnect?: (input: ConnectionHookInput) => MaybePromise<void>;
}

/** The name of one hook. */
export type HookName = keyof RealtimeHooks;
