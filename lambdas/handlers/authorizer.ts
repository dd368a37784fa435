import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { PowertoolsLog } from '../adapters/powertools-log.js';
import { originAllowed } from '../auth/origin.js';
import { createTokenVerifier, TokenRejectedError } from '../auth/token-verifier.js';
import { type Identity, toAuthorizerContext } from '../domain/identity.js';
import type { TokenVerifier } from '../domain/ports.js';
import { readAllowedOrigins, readJwtConfig } from '../shared/config.js';
import { describeError, redact } from './error-text.js';
import type { HandlerContext } from './invocation.js';

/** The parts of a REQUEST authorizer event the `$connect` authorizer reads. */
export type AuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  'methodArn' | 'headers' | 'queryStringParameters'
>;

/** Where the authorizer writes its one-line reasons; never handed a token. */
export interface AuthorizerLog {
  warn(line: string): void;
  error(line: string): void;
}

/** What the authorizer depends on. */
export interface AuthorizerDeps {
  readonly verifier: TokenVerifier;
  /** Allowed browser origins; `undefined` allows any. */
  readonly allowedOrigins: readonly string[] | undefined;
  /** @default - a Powertools logger */
  readonly log?: AuthorizerLog;
}

/** The exact message API Gateway turns into a 401 refusal of the upgrade. */
export const UNAUTHORIZED = 'Unauthorized';

/** Verification itself failed (JWKS unreachable, secret unreadable): neither Allow nor 401. */
export class AuthorizerFailureError extends Error {
  override readonly name = 'AuthorizerFailureError';
  readonly code = 'authorizer_failed';

  constructor(options?: { cause?: unknown }) {
    super('the token could not be verified', options);
  }
}

/**
 * Builds the `$connect` REQUEST authorizer: Deny (403) for an origin not
 * allowed, `Unauthorized` (401) for a missing or refused token, Allow with the
 * identity as context otherwise.
 */
export function createAuthorizer(
  deps: AuthorizerDeps,
): (event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  const log = deps.log ?? new PowertoolsLog();
  return async (event) => {
    if (!originAllowed(deps.allowedOrigins, event.headers)) {
      log.warn('authorizer: refused: origin not allowed');
      return policy('anonymous', 'Deny', event.methodArn);
    }
    const token = event.queryStringParameters?.token;
    if (token === undefined || token === '') {
      log.warn('authorizer: refused: no token');
      throw new Error(UNAUTHORIZED);
    }
    let identity: Identity;
    try {
      const verified = await deps.verifier.verify(token);
      identity = {
        userId: verified.sub,
        name: verified.name,
        rooms: verified.rooms,
        exp: verified.exp,
      };
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        log.warn(`authorizer: refused: ${error.code}: ${redact(error.message, [token])}`);
        throw new Error(UNAUTHORIZED);
      }
      log.error(`authorizer: could not verify: ${describeError(error, [token])}`);
      throw new AuthorizerFailureError({ cause: error });
    }
    return {
      ...policy(identity.userId, 'Allow', event.methodArn),
      context: { ...toAuthorizerContext(identity) },
    };
  };
}

let authorize: ((event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult>) | undefined;
let log: PowertoolsLog | undefined;

/**
 * The `$connect` authorizer Lambda, configured from the environment
 * (PROTOCOL.md section 7) on first use and reused while the instance is warm.
 * Its lines carry the connection and request ids; never the event, whose
 * query string holds the token.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
  context?: HandlerContext,
) => {
  log ??= new PowertoolsLog();
  const { connectionId, requestId, routeKey } = event.requestContext ?? {};
  log.begin({ route: routeKey ?? '$connect', connectionId, requestId }, context);
  try {
    // Built on first invocation rather than at import so that tests can import
    // createAuthorizer without setting the environment; a misconfiguration still
    // fails every invocation with VerifierConfigError.
    authorize ??= createAuthorizer({
      verifier: createTokenVerifier(readJwtConfig(process.env)),
      allowedOrigins: readAllowedOrigins(process.env),
      log,
    });
    return await authorize(event);
  } finally {
    log.end();
  }
};

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  resource: string,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
  };
}
