#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config.js';
import { addRealtimeStack } from '../lib/realtime-app.js';

const app = new App();
try {
  addRealtimeStack(app);
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake needs its message, not a stack trace.
  console.error(`Invalid configuration (${error.setting}): ${error.message}`);
  process.exitCode = 1;
}
