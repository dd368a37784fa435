import { serializedSize } from '../../../protocol/validate.js';
import { ProtocolError } from '../../shared/errors.js';
import type { Services } from '../ports.js';

/**
 * Refuses with `too_large` when `data` serializes to more than
 * `MAX_DATA_BYTES`; `subject` names it in the message.
 */
export function requireDataWithin(services: Services, data: unknown, subject = 'data'): void {
  const size = serializedSize(data);
  if (size > services.limits.maxDataBytes) {
    throw new ProtocolError(
      'too_large',
      `${subject} is ${size} bytes; the limit is ${services.limits.maxDataBytes}.`,
    );
  }
}
