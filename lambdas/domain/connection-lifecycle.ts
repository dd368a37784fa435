import { METRIC } from '../shared/metric-names.js';
import type { Caller } from './caller.js';
import { keyOf } from './caller.js';
import { departConnection } from './departure.js';
import type { Services } from './ports.js';

/** What an after-the-fact hook did: its failure, if it failed, for the handler to log. */
export interface HookReport {
  /** Whatever the `onConnect` or `onDisconnect` hook rejected with. */
  readonly hookFailure?: unknown;
}

/** The outcome of `$connect`. */
export type OpenOutcome =
  | ({ readonly kind: 'accepted' } & HookReport)
  | { readonly kind: 'too_many_connections' };

/**
 * Records a new connection unless the user already has `MAX_CONNECTIONS_PER_USER`
 * open. The count reads records whose TTL has passed as absent, so connections
 * whose `$disconnect` never arrived stop counting once they expire. The
 * deployment's `onConnect` hook is told once the connection is stored.
 */
export async function openConnection(services: Services, caller: Caller): Promise<OpenOutcome> {
  const open = await services.connections.listByUser(caller.identity.userId);
  const others = open.filter((connection) => connection.connectionId !== caller.connectionId);
  if (others.length >= services.limits.maxConnectionsPerUser) {
    return { kind: 'too_many_connections' };
  }
  await services.connections.put({
    ...keyOf(caller),
    name: caller.identity.name,
    connectedAt: services.clock(),
  });
  services.metrics?.count(METRIC.connectionsOpened, 1);
  return {
    kind: 'accepted',
    ...(await reported(services.hooks?.onConnect(caller.identity, caller.connectionId))),
  };
}

/**
 * `$disconnect`: removes the connection and its memberships, and nothing else.
 * The rooms it was the user's last connection in announce the departure from
 * the table's stream (the `presence` function). The deployment's
 * `onDisconnect` hook is told once they are removed, also when pruning had
 * removed them first: this is the one word the hook gets of the connection.
 */
export async function closeConnection(services: Services, caller: Caller): Promise<HookReport> {
  await departConnection(services, keyOf(caller));
  return reported(services.hooks?.onDisconnect(caller.identity, caller.connectionId));
}

/**
 * Waits for an after-the-fact hook and reports its failure instead of
 * throwing it: the connection is already stored or removed, and a hook that
 * failed on that must not refuse the handshake or fail the disconnect.
 */
async function reported(hook: Promise<void> | undefined): Promise<HookReport> {
  try {
    await hook;
    return {};
  } catch (error) {
    return { hookFailure: error };
  }
}
