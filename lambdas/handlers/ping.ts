import { ping } from '../domain/requests/ping.js';
import { createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `ping` route. */
export const handler = createMessageHandler('ping', ping, createServices(process.env));
