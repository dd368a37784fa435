import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsLog } from '../../lambdas/adapters/powertools-log.js';
import { createMetrics, PowertoolsMetrics } from '../../lambdas/adapters/powertools-metrics.js';
import type { MetricsRecorder } from '../../lambdas/domain/ports.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { ping } from '../../lambdas/domain/requests/ping.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { handler as connectHandler } from '../../lambdas/handlers/connect.js';
import { createDefaultHandler } from '../../lambdas/handlers/default.js';
import { createMessageHandler } from '../../lambdas/handlers/message-handler.js';
import { createPruneHandler } from '../../lambdas/handlers/prune.js';
import { createSweepHandler } from '../../lambdas/handlers/sweep.js';
import {
  ERROR_CODE_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
} from '../../lambdas/shared/metric-names.js';
import { routeEvent } from '../support/events.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';
import { type CapturedOutput, captureOutput, type EmfLine } from '../support/output.js';

// Read when the handler modules build their services at import, as in Lambda.
vi.hoisted(() => {
  Object.assign(process.env, {
    TABLE_NAME: 'realtime-table',
    CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_SERVICE_NAME: 'realtime-test',
  });
});

const ddb = mockClient(DynamoDBDocumentClient);
let output: CapturedOutput;
let world: ReturnType<typeof fakeServices>;

beforeEach(() => {
  ddb.reset();
  world = fakeServices();
  output = captureOutput();
});

afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** One metric value as CloudWatch reads it from an EMF line. */
interface Datapoint {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  readonly dimensions: Record<string, unknown>;
  readonly value: unknown;
}

function datapoints(lines: readonly EmfLine[]): Datapoint[] {
  return lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((definition) =>
      definition.Metrics.map((metric) => ({
        namespace: definition.Namespace,
        name: metric.Name,
        unit: metric.Unit,
        dimensions: Object.fromEntries(
          definition.Dimensions.flat().map((dimension) => [dimension, line[dimension]]),
        ),
        value: line[metric.Name],
      })),
    ),
  );
}

const count = (name: string, value: number, dimensions: Record<string, string> = {}) => ({
  namespace: METRICS_NAMESPACE,
  name,
  unit: 'Count',
  dimensions: { [SERVICE_DIMENSION]: 'realtime-test', ...dimensions },
  value,
});

/** Services that count through Powertools, read after the test has set the environment. */
const counting = () => ({ ...world.services, metrics: new PowertoolsMetrics() });

async function lobbyOf(...users: Array<[string, string]>) {
  for (const [userId, connectionId] of users) {
    const caller = await connect(world, callerOf(userId, connectionId));
    await join(world.services, caller, { action: 'join', room: 'lobby' });
  }
  world.notifier.posts.length = 0;
}

const sendTo = (room: string) =>
  routeEvent('send', JSON.stringify({ action: 'send', room, data: 'hi' }), { connectionId: 'a1' });

describe('metrics', () => {
  it('count a send to a room of three: one message, three deliveries, one fan-out duration, on one line', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1'], ['carol', 'c1']);

    await createMessageHandler('send', send, counting())(sendTo('lobby'));

    const lines = output.metrics();
    expect(lines).toHaveLength(1);
    const points = datapoints(lines);
    expect(points).toHaveLength(3);
    expect(points).toContainEqual(count(METRIC.messagesSent, 1));
    expect(points).toContainEqual(count(METRIC.deliveries, 3));
    expect(points).toContainEqual({
      ...count(METRIC.fanOutDuration, 0),
      unit: 'Milliseconds',
      value: expect.any(Number),
    });
  });

  it('count a gone connection as handed over by the send, and as pruned and closed by prune', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1'], ['carol', 'c1']);
    world.notifier.gone.add('c1');
    world.clock.now += 60_000;

    await createMessageHandler('send', send, counting())(sendTo('lobby'));
    const sent = datapoints(output.metrics());
    output.lines.length = 0;
    const gone = world.pruneQueue.queued.splice(0);
    await createPruneHandler(counting())({ gone });

    expect(sent).toContainEqual(count(METRIC.goneHandedOff, 1));
    expect(sent).toContainEqual(count(METRIC.deliveries, 2));
    expect(sent.map((point) => point.name)).not.toContain(METRIC.gonePruned);
    const pruned = datapoints(output.metrics());
    expect(pruned).toContainEqual(count(METRIC.gonePruned, 1));
    expect(pruned).toContainEqual(count(METRIC.connectionsClosed, 1));
  });

  it('count a connection the sweeper finds gone as pruned and closed', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1']);
    world.notifier.gone.add('b1');
    world.clock.now += 60_000;

    const report = await createSweepHandler(counting())({});

    expect(report).toMatchObject({ checked: 2, pruned: 1 });
    const points = datapoints(output.metrics());
    expect(points).toContainEqual(count(METRIC.gonePruned, 1));
    expect(points).toContainEqual(count(METRIC.connectionsClosed, 1));
    expect(output.logs()).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'sweep finished', route: 'sweep' }),
    ]);
  });

  it('count posts that failed after retries as delivery failures', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1']);
    world.notifier.failing.add('b1');

    await createMessageHandler('send', send, counting())(sendTo('lobby'));

    const points = datapoints(output.metrics());
    expect(points).toContainEqual(count(METRIC.deliveryFailures, 1));
    expect(points).toContainEqual(count(METRIC.deliveries, 1));
  });

  it('count an accepted $connect as a connection opened', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});

    const result = await connectHandler(routeEvent('$connect', undefined, { connectionId: 'n1' }));

    expect(result.statusCode).toBe(200);
    expect(datapoints(output.metrics())).toEqual([count(METRIC.connectionsOpened, 1)]);
  });

  it.each([
    ['not_member', 'a room it has not joined', () => sendTo('elsewhere')],
    [
      'rate_limited',
      'a throttled connection',
      () => {
        world.connections.throttled.add('a1');
        return sendTo('lobby');
      },
    ],
  ])(
    'count an error frame %s, for %s, by its code on a line of its own',
    async (code, _case, event) => {
      await lobbyOf(['alice', 'a1']);

      const result = await createMessageHandler('send', send, counting())(event());

      expect(JSON.parse(String(result.body))).toMatchObject({ type: 'error', code });
      const errors = output.metrics().filter((line) => METRIC.errors in line);
      expect(errors).toHaveLength(1);
      expect(errors[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
        [SERVICE_DIMENSION, ERROR_CODE_DIMENSION],
      ]);
      expect(datapoints(errors)).toEqual([
        count(METRIC.errors, 1, { [ERROR_CODE_DIMENSION]: code }),
      ]);
    },
  );

  it('count the error frames of $default', async () => {
    const handle = createDefaultHandler({
      log: new PowertoolsLog(),
      metrics: new PowertoolsMetrics(),
    });

    await handle(routeEvent('$default', 'not json'));

    expect(datapoints(output.metrics())).toEqual([
      count(METRIC.errors, 1, { [ERROR_CODE_DIMENSION]: 'bad_request' }),
    ]);
  });

  it('write nothing, not even a warning, for an invocation that counted nothing', async () => {
    await lobbyOf(['alice', 'a1']);

    const result = await createMessageHandler(
      'ping',
      ping,
      counting(),
    )(routeEvent('ping', JSON.stringify({ action: 'ping' }), { connectionId: 'a1' }));

    expect(JSON.parse(String(result.body))).toMatchObject({ type: 'pong' });
    expect(output.lines).toEqual([]);
  });

  it('still answer when publishing the metrics fails', async () => {
    await lobbyOf(['alice', 'a1']);
    const broken: MetricsRecorder = {
      count: () => undefined,
      fanOutDuration: () => undefined,
      errorAnswered: () => undefined,
      flush: () => {
        throw new RangeError('Invalid metric unit');
      },
    };

    const result = await createMessageHandler('send', send, { ...world.services, metrics: broken })(
      sendTo('lobby'),
    );

    expect(result).toEqual({ statusCode: 200 });
    expect(world.notifier.to('a1')).toMatchObject([{ type: 'message', data: 'hi' }]);
    expect(output.logs()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'metrics not published',
        connectionId: 'a1',
      }),
    ]);
  });

  it('use POWERTOOLS_METRICS_NAMESPACE when the stack sets one', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Realtime/dev');
    const metrics = new PowertoolsMetrics(createMetrics(process.env));

    metrics.count(METRIC.messagesSent, 1);
    metrics.flush();

    expect(datapoints(output.metrics())).toEqual([
      { ...count(METRIC.messagesSent, 1), namespace: 'Realtime/dev' },
    ]);
  });
});
