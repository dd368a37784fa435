import type { Invocation } from './invoker.js';

/** Who refused a handshake: the gateway itself, the `$connect` authorizer or the `$connect` integration. */
export type RefusedBy = 'gateway' | 'authorizer' | 'integration';

/** How the gateway answered one request. */
export type RequestOutcome =
  | { readonly kind: 'ok' }
  /** The function answered with a protocol error frame; `code` is its code (`forbidden`). */
  | { readonly kind: 'error'; readonly code: string }
  /** The handshake was answered with an HTTP error instead of 101. */
  | {
      readonly kind: 'refused';
      readonly status: number;
      readonly by: RefusedBy;
      /** For people: what the gateway knows of why (`no token`, `Unauthorized`). */
      readonly reason: string;
    }
  /** The function failed: it threw, ran past its timeout or its runtime died. */
  | { readonly kind: 'failed'; readonly error: FailedInvocation['error'] }
  /** No route took the frame: API Gateway answered `Forbidden`. */
  | { readonly kind: 'unrouted' }
  /** The client went away while `$connect` ran. */
  | { readonly kind: 'gone' };

type FailedInvocation = Extract<Invocation, { ok: false }>;

/** One request of a client (a handshake, a frame, a close) as the gateway answered it. */
export interface RequestReport {
  /** The route key: `$connect`, `$disconnect`, `join`, `$default`, ... */
  readonly route: string;
  readonly connectionId: string;
  /** The authorizer's `principalId`, once it allowed the connection. */
  readonly userId?: string;
  readonly outcome: RequestOutcome;
  /** From the handshake or frame to the answer, the functions' time included. */
  readonly durationMs: number;
}

/** Where the gateway hands its reports. */
export type RequestReporter = (report: RequestReport) => void;

/** A failed invocation in a few words: `timeout`, `crashed: <why>` or `failed: <error>`. */
export function describeFailure(error: FailedInvocation['error']): string {
  if (error.kind === 'timeout') return 'timeout';
  if (error.kind === 'crash') return `crashed: ${error.message}`;
  return `failed: ${error.name}: ${error.message}`;
}
