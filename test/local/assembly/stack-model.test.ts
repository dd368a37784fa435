import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { STACK_ID } from '../../../lib/realtime-app.js';
import { HANDLER_NAMES, handlerId } from '../../../lib/realtime-stack.js';
import { readStackModel, type StackModel } from '../../../local/assembly/stack-model.js';
import { ACTIONS } from '../../../protocol/messages.js';

let model: StackModel;
let outdir: string;

beforeAll(() => {
  outdir = inject('cdkOutdir');
  model = readStackModel(outdir, STACK_ID);
});

/** The construct id of the function behind a route. */
function functionNameOf(routeKey: string): string | undefined {
  const route = model.routes.get(routeKey);
  return route === undefined ? undefined : model.functions.get(route.functionId)?.name;
}

describe('readStackModel on the synthesized app', () => {
  it('reads the WebSocket API with its selection expression and stage', () => {
    expect(model.routeSelectionExpression).toBe('$request.body.action');
    expect(model.stageName).toBe('prod');
    expect(model.apiId).toBe('local');
  });

  it('reads 11 routes: $connect, $disconnect, $default and every action', () => {
    expect([...model.routes.keys()].sort()).toEqual(
      ['$connect', '$disconnect', '$default', ...ACTIONS].sort(),
    );
  });

  it('puts the authorizer, with the token query parameter as identity source, on $connect', () => {
    const authorizer = model.routes.get('$connect')?.authorizer;

    expect(authorizer?.identitySource).toEqual(['route.request.querystring.token']);
    expect(model.functions.get(authorizer?.functionId ?? '')?.name).toBe('AuthorizerHandler');
  });

  it('puts no authorizer on any other route', () => {
    const authorized = [...model.routes.values()]
      .filter((route) => route.authorizer !== undefined)
      .map((route) => route.routeKey);

    expect(authorized).toEqual(['$connect']);
  });

  it('makes $default and every action two-way, and $connect and $disconnect not', () => {
    const twoWay = [...model.routes.values()]
      .filter((route) => route.twoWay)
      .map((route) => route.routeKey)
      .sort();

    expect(twoWay).toEqual(['$default', ...ACTIONS].sort());
  });

  it("integrates every route with its handler's function", () => {
    const expected = {
      $connect: handlerId('connect'),
      $disconnect: handlerId('disconnect'),
      $default: handlerId('default'),
      ...Object.fromEntries(ACTIONS.map((action) => [action, handlerId(action)])),
    };

    const actual = Object.fromEntries(
      [...model.routes.keys()].map((key) => [key, functionNameOf(key)]),
    );

    expect(actual).toEqual(expected);
  });

  it('reads one function per handler, each with a bundle that exists', () => {
    const functions = [...model.functions.values()];

    expect(functions.map((fn) => fn.name).sort()).toEqual(HANDLER_NAMES.map(handlerId).sort());
    for (const fn of functions) {
      expect(fn.bundle.startsWith(outdir), fn.name).toBe(true);
      expect(existsSync(fn.bundle), fn.name).toBe(true);
      expect(fn.handler, fn.name).toBe('handler');
    }
  });

  it('reads the table with its pk/sk key schema and the expiresAt TTL attribute', () => {
    expect(model.tables).toHaveLength(1);
    expect(model.tables[0]).toMatchObject({
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      attributeDefinitions: expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      ttlAttribute: 'expiresAt',
    });
  });

  it('reads the sweep index of the table', () => {
    expect(model.tables[0]?.globalSecondaryIndexes).toEqual([
      expect.objectContaining({ IndexName: 'bySweepShard' }),
    ]);
  });

  it('reads the sweeper schedule, targeting the sweep function', () => {
    expect(model.schedules).toHaveLength(1);
    const [schedule] = model.schedules;
    expect(schedule?.expression).toBe('rate(10 minutes)');
    expect(model.functions.get(schedule?.functionId ?? '')?.name).toBe(handlerId('sweep'));
  });

  it('reads the HS256 secret', () => {
    expect(model.secrets).toHaveLength(1);
  });
});

describe('readStackModel on the synthesized app’s table stream', () => {
  it('reads each event source mapping as reading its table’s stream, to one of the functions', () => {
    expect(model.eventSourceMappings.length).toBeGreaterThan(0);
    for (const mapping of model.eventSourceMappings) {
      const table = model.tables.find((candidate) => candidate.logicalId === mapping.tableId);
      expect(table?.streamViewType, mapping.logicalId).toBeDefined();
      expect(mapping.eventSourceArn).toBe(
        model.resolution.attributes[`${mapping.tableId}.StreamArn`],
      );
      expect(model.functions.has(mapping.functionId), mapping.logicalId).toBe(true);
    }
  });
});
