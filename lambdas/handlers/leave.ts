import { leave } from '../domain/requests/leave.js';
import { createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `leave` route. */
export const handler = createMessageHandler(
  'leave',
  leave,
  // Posts nothing: the presence function announces from the table's stream.
  createServices(process.env),
);
