/**
 * The names of the functions' embedded-metric-format metrics, shared by the
 * code that emits them and the stack's alarms and dashboard, so the two
 * cannot drift apart.
 */

/** The CloudWatch namespace of every metric the functions emit. */
export const METRICS_NAMESPACE = 'Realtime';

/**
 * The dimension every metric carries: the stack's name (the functions'
 * `POWERTOOLS_SERVICE_NAME`), so two stages in one account stay apart.
 */
export const SERVICE_DIMENSION = 'service';

/** The extra dimension of `Errors`: the protocol error code answered. */
export const ERROR_CODE_DIMENSION = 'code';

/** Metric names; counts unless noted. */
export const METRIC = {
  /** `$connect` accepted. */
  connectionsOpened: 'ConnectionsOpened',
  /** Connections departed: `$disconnect`, pruning and the sweeper. */
  connectionsClosed: 'ConnectionsClosed',
  /** Messages numbered and stored (`send` and server-side publish). */
  messagesSent: 'MessagesSent',
  /** Frames posted to a connection. */
  deliveries: 'Deliveries',
  /** Posts that failed after retries (the member recovers through `history`). */
  deliveryFailures: 'DeliveryFailures',
  /** Gone connections removed by the `prune` function or the sweeper. */
  gonePruned: 'GonePruned',
  /** Connections a post found gone, handed to the `prune` function. */
  goneHandedOff: 'GoneHandedOff',
  /** Gone connections that could not be handed over (the sweeper finds them later). */
  goneHandOffFailures: 'GoneHandOffFailures',
  /** Presence frames posted (coalesced arrivals and departures). */
  presenceFrames: 'PresenceFrames',
  /** Error frames answered, with the `code` dimension. */
  errors: 'Errors',
  /** Milliseconds a fan-out took, from reading the members (when not already read) to its last post. */
  fanOutDuration: 'FanOutDuration',
} as const;
