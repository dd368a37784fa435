import { describe, expect, it } from 'vitest';
import { useChatBrowser } from './support/chat-fixture.js';
import { chromiumFound, WAIT_MS } from './support/chat-page.js';

const poll = { timeout: WAIT_MS, interval: 100 };

/** A member list as the demo shows it: the page's own user first, then the others by name. */
const shown = (me: string, others: readonly string[]) => [
  me,
  ...[...others].sort((a, b) => a.localeCompare(b)),
];

// Without Chromium, chat.test.ts reports the skip (and fails under CI).
describe.skipIf(!chromiumFound)('presence in the demo chat, in Chromium', () => {
  const demo = useChatBrowser({
    // A connection that ends without a close frame gets no `$disconnect`, as
    // API Gateway may do (it delivers `$disconnect` on a best-effort basis).
    faults: { lostDisconnectRate: 1 },
  });
  const { open, connectionsOf } = demo;

  it('keeps the member list of every page equal to the room as pages join, leave and vanish', async () => {
    const room = `presence-${Date.now().toString(36)}`;
    // Joining at once, so that arrivals coalesce into frames naming several users.
    const [ann, ben, cat, dan] = await Promise.all(
      ['Ann', 'Ben', 'Cat', 'Dan'].map((name) => open(name, room)),
    );
    if (ann === undefined || ben === undefined || cat === undefined || dan === undefined) {
      throw new Error('a page did not open');
    }
    const everyone = [ann, ben, cat, dan];
    for (const chat of everyone) {
      const others = everyone.filter((other) => other !== chat).map((other) => other.name);
      await expect.poll(() => chat.members(), poll).toEqual(shown(chat.name, others));
    }

    await cat.leave();
    for (const chat of [ann, ben, dan]) {
      const others = [ann, ben, dan].filter((other) => other !== chat).map((other) => other.name);
      await expect.poll(() => chat.members(), poll).toEqual(shown(chat.name, others));
    }

    // Dan's socket dies without a close frame, and Dan stays offline: the
    // backend gets no `$disconnect` and still lists the connection.
    const [danConnection] = connectionsOf('dan');
    if (danConnection === undefined) throw new Error('Dan has no open connection');
    await dan.context.setOffline(true);
    demo.stack.gateway.connections.get(danConnection)?.socket?.terminate();
    await expect.poll(() => demo.stack.faults.disconnectsLost, poll).toBe(1);
    await expect.poll(() => dan.state(), poll).toBe('reconnecting');
    // A message's fan-out meets the gone connection (410), which is then pruned.
    await ann.say('anyone still here?');
    await expect.poll(() => ann.members(), poll).toEqual(shown('Ann', ['Ben']));
    await expect.poll(() => ben.members(), poll).toEqual(shown('Ben', ['Ann']));

    // The server's own list agrees: someone joining now is told of Ann and Ben only.
    const eve = await open('Eve', room);
    await expect.poll(() => eve.members(), poll).toEqual(shown('Eve', ['Ann', 'Ben']));
    await expect.poll(() => ann.members(), poll).toEqual(shown('Ann', ['Ben', 'Eve']));
    await expect.poll(() => ben.members(), poll).toEqual(shown('Ben', ['Ann', 'Eve']));

    // Departures are noticed from the coalesced lists, however they were grouped.
    for (const chat of [ann, ben]) {
      const departures = (await chat.notices()).filter((text) => text.endsWith(' left')).join();
      expect(departures).toMatch(/\bCat\b/);
      expect(departures).toMatch(/\bDan\b/);
    }
    expect(everyone.flatMap((chat) => chat.pageErrors)).toEqual([]);
    expect(eve.pageErrors).toEqual([]);
  }, 60_000);
});
