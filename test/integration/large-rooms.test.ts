import { describe, expect, inject, it } from 'vitest';
import { Meter } from '../../local/metering/meter.js';
import { type ConfiguredAssembly, synthesizeConfigured } from '../support/configured-assembly.js';
import { useLocalStack } from './support/local-stack-fixture.js';
import type { TestClient } from './support/ws-client.js';

/** Three connections a share: a room of 10 is posted by the sender and three workers. */
const CHUNK = 3;

let assembly: ConfiguredAssembly | undefined;

function synthesizeWithSmallShares(): string {
  assembly = synthesizeConfigured(
    'large-rooms',
    { FAN_OUT_CHUNK_SIZE: String(CHUNK) },
    inject('cdkOutdir'),
  );
  return assembly.outdir;
}

/**
 * Large rooms through the real fan-out workers: the sending function invokes
 * them through the local stack's Lambda Invoke API, they post through its
 * management API. The share size is shrunk so ten connections make a large room.
 */
describe('fan-out split across workers, on dynalite', () => {
  const meter = new Meter();
  const local = useLocalStack('dynalite', {
    assembly: synthesizeWithSmallShares,
    afterStop: () => assembly?.remove(),
    meter,
  });

  /** Ten connections of five users in `room`, their joins' presence frames delivered and taken. */
  async function roomOfTen(room: string): Promise<TestClient[]> {
    const clients: TestClient[] = [];
    for (let index = 0; index < 10; index++) {
      clients.push(await local.joined(`${room}-u${index % 5}`, room));
    }
    await local.settledPresence(...clients);
    return clients;
  }

  it('delivers a send to every connection once, three shares posted by workers', async () => {
    const clients = await roomOfTen('split');
    const [alice] = clients as [TestClient];
    meter.reset();

    const ack = await alice.request({ action: 'send', room: 'split', data: 'to all' });

    expect(ack).toMatchObject({ type: 'ack', room: 'split', seq: 1 });
    for (const client of clients) {
      expect(await client.nextOfType('message')).toMatchObject({ seq: 1, data: 'to all' });
    }
    const isMessage = (frame: { type?: unknown }) => frame.type === 'message';
    await local.settled();
    await Promise.all(clients.map((client) => client.expectNothingReceived(isMessage)));
    expect(meter.snapshot().invocations.FanoutHandler?.count).toBe(3);
    expect(meter.snapshot().managementCalls).toEqual({ POST: 10 });
  });

  it('gives every connection a sender’s messages in seq order', async () => {
    const clients = await roomOfTen('ordered');
    const [alice] = clients as [TestClient];

    for (const data of [1, 2, 3, 4, 5]) {
      await alice.request({ action: 'send', room: 'ordered', data });
    }

    for (const client of clients) {
      const seqs: unknown[] = [];
      for (let index = 0; index < 5; index++) seqs.push((await client.nextOfType('message')).seq);
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
    }
  });
});
