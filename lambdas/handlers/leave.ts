import { leave } from '../domain/requests/leave.js';
import { createNotifier, createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `leave` route. */
export const handler = createMessageHandler(
  'leave',
  leave,
  createServices(process.env, createNotifier(process.env)),
);
