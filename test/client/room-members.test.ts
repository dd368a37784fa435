import { describe, expect, it } from 'vitest';
import { type MemberChange, RoomMembers } from '../../client/room-members.js';
import type { PresenceFrame, User } from '../../protocol/messages.js';

const alice: User = { userId: 'alice', name: 'Alice' };
const bob: User = { userId: 'bob', name: 'Bob' };
const carol: User = { userId: 'carol', name: 'Carol' };
const dave: User = { userId: 'dave', name: 'Dave' };

function presence(joined: User[], left: User[] = []): PresenceFrame {
  return { type: 'presence', room: 'lobby', joined, left };
}

const ids = (users: readonly User[]) => users.map((user) => user.userId);

/** A member list whose own user is alice, recording every change it reports. */
function tracked(self: string | undefined = 'alice') {
  const changes: MemberChange[] = [];
  const members = new RoomMembers({ self: () => self, changed: (change) => changes.push(change) });
  const listed = () => ids(members.users);
  return { members, changes, listed };
}

describe('RoomMembers', () => {
  it('holds frames while a join waits for its reply, then applies them in order after it', () => {
    const { members, changes, listed } = tracked();
    members.joining();
    members.presence(presence([carol]));
    members.presence(presence([dave], [carol]));
    expect(changes).toEqual([]);
    members.joined([alice, bob]);
    members.settled();
    expect(listed()).toEqual(['alice', 'bob', 'dave']);
    expect(changes.map((change) => ids(change.members))).toEqual([
      ['alice', 'bob'],
      ['alice', 'bob', 'carol'],
      ['alice', 'bob', 'dave'],
    ]);
  });

  it('applies frames at once when no join is awaited', () => {
    const { members, listed } = tracked();
    members.joining();
    members.joined([alice]);
    members.settled();
    members.presence(presence([bob, carol]));
    expect(listed()).toEqual(['alice', 'bob', 'carol']);
  });

  it('applies a frame that arrives between the reply and the settling of its join', () => {
    const { members, listed } = tracked();
    members.joining();
    members.joined([alice]);
    members.presence(presence([bob]));
    expect(listed()).toEqual(['alice']);
    members.settled();
    expect(listed()).toEqual(['alice', 'bob']);
  });

  it('applies every frame held during two overlapping joins again after the later reply', () => {
    const { members, listed } = tracked();
    members.joining();
    members.joining();
    members.presence(presence([carol]));
    members.joined([alice, bob]);
    members.settled();
    expect(listed()).toEqual(['alice', 'bob', 'carol']);
    // The later reply's members were read before dave came, and after bob left.
    members.presence(presence([dave]));
    members.joined([alice, carol]);
    members.settled();
    expect(listed()).toEqual(['alice', 'carol', 'dave']);
    members.presence(presence([], [dave]));
    expect(listed()).toEqual(['alice', 'carol']);
  });

  it('applies the held frames to the list it has when a repeated join fails', () => {
    const { members, listed } = tracked();
    members.joining();
    members.joined([alice]);
    members.settled();
    members.joining();
    members.presence(presence([bob]));
    expect(listed()).toEqual(['alice']);
    members.settled();
    expect(listed()).toEqual(['alice', 'bob']);
  });

  it('drops the held frames when a first join fails', () => {
    const { members, changes, listed } = tracked();
    members.joining();
    members.presence(presence([bob]));
    members.settled();
    expect(listed()).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('drops the frames a connection brought when it drops before the rejoin reply', () => {
    const { members, listed } = tracked();
    members.joining();
    members.joined([alice, bob]);
    members.settled();
    // A repeated join, sent again on the next connection (it is idempotent).
    members.joining();
    // Bob left, and came back while the connection was down: no frame tells of his return.
    members.presence(presence([], [bob]));
    members.disconnected();
    // The rejoin, then the repeated join, answered on the new connection.
    members.joining();
    members.joined([alice, bob]);
    members.settled();
    members.joined([alice, bob]);
    members.settled();
    expect(listed()).toEqual(['alice', 'bob']);
  });

  it('never removes or adds its own user on a frame', () => {
    const { members, changes, listed } = tracked('alice');
    members.joining();
    members.joined([bob, alice]);
    members.settled();
    members.presence(presence([], [alice]));
    members.presence(presence([alice]));
    expect(listed()).toEqual(['bob', 'alice']);
    expect(changes).toHaveLength(1);
  });

  it('reports the users a frame really changed, with the names it listed them under', () => {
    const { members, changes } = tracked();
    members.joining();
    members.joined([alice, bob]);
    members.settled();
    members.presence(presence([bob, carol, carol], [{ userId: 'bob', name: 'Robert' }]));
    expect(changes.at(-1)).toMatchObject({ joined: [carol], left: [bob] });
    expect(ids(changes.at(-1)?.members ?? [])).toEqual(['alice', 'carol']);
  });

  it('ignores a frame without lists, such as a version 1 frame', () => {
    const { members, changes, listed } = tracked();
    members.joining();
    members.joined([alice]);
    members.settled();
    members.presence({ type: 'presence', room: 'lobby', event: 'join', user: bob } as never);
    members.presence(presence([{ name: 'no id' } as never]));
    expect(listed()).toEqual(['alice']);
    expect(changes).toHaveLength(1);
  });

  it('reports nothing more once disposed, even from inside its own report', () => {
    const changes: MemberChange[] = [];
    const members: RoomMembers = new RoomMembers({
      self: () => undefined,
      changed: (change) => {
        changes.push(change);
        members.dispose();
      },
    });
    members.joining();
    members.presence(presence([bob]));
    members.joined([alice]);
    members.settled();
    members.presence(presence([carol]));
    expect(changes.map((change) => ids(change.members))).toEqual([['alice']]);
    expect(members.users).toEqual([]);
  });
});
