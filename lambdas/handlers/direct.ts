import { direct } from '../domain/requests/direct.js';
import { createNotifier, createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `direct` route. */
export const handler = createMessageHandler(
  'direct',
  direct,
  createServices(process.env, createNotifier(process.env)),
);
