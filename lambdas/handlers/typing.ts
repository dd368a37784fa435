import { typing } from '../domain/requests/typing.js';
import { createNotifier, createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `typing` route. */
export const handler = createMessageHandler(
  'typing',
  typing,
  createServices(process.env, createNotifier(process.env)),
);
