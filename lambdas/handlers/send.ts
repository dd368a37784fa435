import { send } from '../domain/requests/send.js';
import { createNotifier, createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `send` route. */
export const handler = createMessageHandler(
  'send',
  send,
  createServices(process.env, createNotifier(process.env)),
);
