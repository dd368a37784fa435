/**
 * serverless-websocket-backend: the `RealtimeApi` construct, a serverless
 * WebSocket backend (API Gateway, Lambda, DynamoDB) for any CDK app.
 * Server hook types are in `serverless-websocket-backend/hooks`.
 */
export { RealtimeMonitoring } from './constructs/realtime-monitoring.js';
export { RealtimeWebSocket } from './constructs/realtime-websocket.js';
export { HANDLER_NAMES, type HandlerName } from './handler-needs.js';
export { RealtimeApi } from './realtime-api.js';
export {
  type RealtimeApiProps,
  type RealtimeHooksOptions,
  type RealtimeLimits,
  type RealtimeMonitoringOptions,
  type TokenClaims,
  type TokenKeySource,
  TokenVerification,
} from './realtime-api-props.js';
export { RealtimeApiPropError } from './realtime-api-validation.js';
