import { history } from '../domain/requests/history.js';
import { createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `history` route. */
export const handler = createMessageHandler('history', history, createServices(process.env));
