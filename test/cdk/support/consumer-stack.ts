import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RealtimeApi } from '../../../lib/realtime-api.js';
import type { RealtimeApiProps } from '../../../lib/realtime-api-props.js';
import {
  logicalIdOf,
  type TemplateJson,
  type TemplateResource,
  variablesOf,
} from '../../support/synth.js';

/** A consumer's stack with one `RealtimeApi` ('Chat'), synthesized without bundling. */
export interface ConsumerStack {
  readonly stack: Stack;
  readonly api: RealtimeApi;
  readonly template: Template;
  readonly json: TemplateJson;
}

/**
 * Synthesizes a stack named `Consumer` holding `new RealtimeApi(stack, 'Chat', props)`;
 * props given as a function get the stack first, to make what they refer to,
 * and `use` uses the API before the stack is synthesized.
 */
export function consumerStack(
  props: RealtimeApiProps | ((stack: Stack) => RealtimeApiProps) = {},
  use: (api: RealtimeApi, stack: Stack) => void = () => {},
): ConsumerStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Consumer');
  const api = new RealtimeApi(stack, 'Chat', typeof props === 'function' ? props(stack) : props);
  use(api, stack);
  const template = Template.fromStack(stack);
  return { stack, api, template, json: template.toJSON() as TemplateJson };
}

/** The resources of a type, by logical id. */
export function resourcesOfType(json: TemplateJson, type: string): [string, TemplateResource][] {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}

/** The environment of the API's function for `handler` (e.g. 'send'). */
export function environmentOfHandler(
  consumer: ConsumerStack,
  handler: keyof RealtimeApi['functions'],
): Record<string, unknown> {
  const fn = consumer.api.functions[handler].node.defaultChild as CfnElement;
  return variablesOf(consumer.json, logicalIdOf(consumer.stack, fn));
}
