import { METRIC } from '../shared/metric-names.js';
import type { Caller } from './caller.js';
import { keyOf } from './caller.js';
import { departConnection } from './departure.js';
import type { Services } from './ports.js';

/** The outcome of `$connect`. */
export type OpenOutcome = 'accepted' | 'too_many_connections';

/**
 * Records a new connection unless the user already has `MAX_CONNECTIONS_PER_USER`
 * open. The count reads records whose TTL has passed as absent, so connections
 * whose `$disconnect` never arrived stop counting once they expire.
 */
export async function openConnection(services: Services, caller: Caller): Promise<OpenOutcome> {
  const open = await services.connections.listByUser(caller.identity.userId);
  const others = open.filter((connection) => connection.connectionId !== caller.connectionId);
  if (others.length >= services.limits.maxConnectionsPerUser) return 'too_many_connections';
  await services.connections.put({
    ...keyOf(caller),
    name: caller.identity.name,
    connectedAt: services.clock(),
  });
  services.metrics?.count(METRIC.connectionsOpened, 1);
  return 'accepted';
}

/**
 * `$disconnect`: removes the connection and its memberships, and nothing else.
 * The rooms it was the user's last connection in announce the departure from
 * the table's stream (the `presence` function).
 */
export async function closeConnection(services: Services, caller: Caller): Promise<void> {
  await departConnection(services, keyOf(caller));
}
