import { describe, expect, it } from 'vitest';
import { handlerId } from '../../lib/realtime-stack.js';
import {
  LOCAL_PUBLISH_FUNCTION,
  planPublish,
  runPublish,
  USAGE,
  UsageError,
} from '../../scripts/publish-cli.js';

const LOCAL = { PORT: '8080' };

describe('npm run publish', () => {
  it('names the local publish function by its construct id in the stack', () => {
    expect(LOCAL_PUBLISH_FUNCTION).toBe(handlerId('publish'));
  });

  it('targets the local stack on PORT by default', () => {
    expect(planPublish(['--room', 'lobby', '--data', '{"text":"hi"}'], LOCAL)).toEqual({
      input: { room: 'lobby', data: { text: 'hi' } },
      functionName: LOCAL_PUBLISH_FUNCTION,
      endpoint: 'http://127.0.0.1:8080',
    });
  });

  it('targets a deployed function named with --function, whatever PORT says', () => {
    expect(
      planPublish(
        ['--user', 'alice', '--data', '"hi"', '--function', 'Realtime-PublishHandler-X'],
        {},
      ),
    ).toEqual({ input: { user: 'alice', data: 'hi' }, functionName: 'Realtime-PublishHandler-X' });
  });

  it('sends the sender given with --from-id and --from-name', () => {
    const plan = planPublish(
      ['--room', 'ops', '--data', '1', '--from-id', 'ci', '--from-name', 'CI bot'],
      LOCAL,
    );
    expect(plan.input).toEqual({ room: 'ops', data: 1, from: { userId: 'ci', name: 'CI bot' } });
  });

  it('leaves the target rules to the function, passing both targets or none on', () => {
    expect(planPublish(['--data', '1'], LOCAL).input).toEqual({ data: 1 });
    expect(planPublish(['--room', 'a', '--user', 'b', '--data', '1'], LOCAL).input).toEqual({
      room: 'a',
      user: 'b',
      data: 1,
    });
  });

  it.each([
    ['no --data', ['--room', 'lobby'], LOCAL, /--data is required/],
    ['--data that is not JSON', ['--room', 'lobby', '--data', 'hi'], LOCAL, /not JSON/],
    ['an unknown option', ['--room', 'lobby', '--data', '1', '--rom', 'x'], LOCAL, /rom/],
    ['no PORT and no running local stack', ['--room', 'lobby', '--data', '1'], {}, /npm start/],
    ['PORT 0', ['--room', 'lobby', '--data', '1'], { PORT: '0' }, /PORT must be/],
  ])('refuses %s as a usage error', (_, argv, env, message) => {
    const noStack = () => undefined;
    expect(() => planPublish(argv, env, noStack)).toThrow(UsageError);
    expect(() => planPublish(argv, env, noStack)).toThrow(message);
  });

  it('without PORT, targets the local stack npm start recorded', () => {
    const running = () => ({ httpUrl: 'http://127.0.0.1:41234', url: 'ws://x', pid: 1 });

    expect(planPublish(['--room', 'lobby', '--data', '1'], {}, running)).toMatchObject({
      functionName: 'PublishHandler',
      endpoint: 'http://127.0.0.1:41234',
    });
  });

  it('exits 2 with the usage on a usage error, invoking nothing', async () => {
    const lines: string[] = [];
    const code = await runPublish(['--room', 'lobby'], LOCAL, {
      out: (line) => lines.push(`out: ${line}`),
      err: (line) => lines.push(`err: ${line}`),
    });
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^err: --data is required[\s\S]*Usage:/)]);
  });

  it.each([
    ['--help', ['--help']],
    ['-h', ['-h']],
    ['--help beside other options', ['--room', 'lobby', '--help']],
    ['--help beside an unknown option', ['--rom', 'x', '--help']],
  ])('prints the usage on stdout and exits 0 for %s, invoking nothing', async (_, argv) => {
    const lines: string[] = [];
    const code = await runPublish(
      argv,
      {},
      {
        out: (line) => lines.push(`out: ${line}`),
        err: (line) => lines.push(`err: ${line}`),
      },
    );
    expect(code).toBe(0);
    expect(lines).toEqual([`out: ${USAGE}`]);
    expect(USAGE).toMatch(/^Usage: npm run publish[\s\S]*-h, --help/);
  });
});
