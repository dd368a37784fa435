import { createTokenVerifier } from '../auth/token-verifier.js';
import { createAuth } from '../domain/requests/auth.js';
import { readJwtConfig } from '../shared/config.js';
import { createServices } from './clients.js';
import { createMessageHandler } from './message-handler.js';

/** The `auth` route: renews the connection's token expiry. */
export const handler = createMessageHandler(
  'auth',
  createAuth(createTokenVerifier(readJwtConfig(process.env))),
  createServices(process.env),
);
