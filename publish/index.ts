/**
 * Publish to rooms and users from other TypeScript services, through the
 * stack's publish function (Lambda's Invoke API, authorized by IAM).
 */
export type { User } from '../protocol/messages.js';
export {
  type PublishedToRoom,
  type PublishedToUser,
  type PublishInput,
  type PublishRefused,
  type PublishResult,
  SYSTEM_USER,
} from '../protocol/publish.js';
export { PublishError, PublishFunctionError } from './errors.js';
export { createPublisher, type Publisher, type PublisherOptions } from './publisher.js';
