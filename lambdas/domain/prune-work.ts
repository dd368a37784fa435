import { ROOM_PATTERN } from '../../protocol/messages.js';
import { DeliveryWorkError, parseTarget } from './delivery-work.js';
import type { GoneConnection } from './ports.js';
import { PRUNES_PER_INVOCATION } from './pruning.js';

/** The `prune` function's event: connections found gone, as the prune queue hands them over. */
export interface PruneWork {
  readonly gone: readonly GoneConnection[];
}

/**
 * Checks the `prune` function's event. Only the stack's own functions invoke
 * it, but a malformed event must fail loudly before anything is deleted.
 */
export function parsePruneWork(event: unknown): PruneWork {
  const gone = (event as { gone?: unknown } | null)?.gone;
  if (!Array.isArray(gone) || gone.length === 0 || gone.length > PRUNES_PER_INVOCATION) {
    throw new DeliveryWorkError(
      `gone must be an array of 1 to ${PRUNES_PER_INVOCATION} connections`,
    );
  }
  return {
    gone: gone.map((value) => {
      const { room, postedAt } = value as { room?: unknown; postedAt?: unknown };
      if (room !== undefined && (typeof room !== 'string' || !ROOM_PATTERN.test(room))) {
        throw new DeliveryWorkError('room must be a room name when present');
      }
      if (
        postedAt !== undefined &&
        !(Number.isSafeInteger(postedAt) && (postedAt as number) >= 0)
      ) {
        throw new DeliveryWorkError('postedAt must be a time in milliseconds when present');
      }
      return {
        ...parseTarget(value),
        ...(room === undefined ? {} : { room }),
        ...(postedAt === undefined ? {} : { postedAt: postedAt as number }),
      };
    }),
  };
}
