import { join } from '../domain/requests/join.js';
import { createNotifier, createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `join` route. */
export const handler = createMessageHandler(
  'join',
  join,
  createServices(process.env, createNotifier(process.env)),
);
