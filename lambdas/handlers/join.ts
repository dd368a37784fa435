import { join } from '../domain/requests/join.js';
import { createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `join` route. */
export const handler = createMessageHandler(
  'join',
  join,
  // Posts nothing: the presence function announces from the table's stream.
  createServices(process.env),
);
