// Run inside the consumer's project, so the client is the installed package:
// chats on both APIs over real sockets with Node's global WebSocket and prints
// what happened as JSON. Arguments: the Chat API's ws URL and HTTP URL, then
// the Notifications API's.
import { RealtimeClient } from 'serverless-websocket-client';

const [chatUrl, chatHttp, notificationsUrl, notificationsHttp] = process.argv.slice(2);

async function devToken(httpUrl, sub) {
  const answer = await fetch(`${httpUrl}/dev/token?sub=${sub}&name=${sub}`);
  return (await answer.json()).token;
}

async function connected(url, httpUrl, sub) {
  const token = await devToken(httpUrl, sub);
  const client = new RealtimeClient({ url, token: () => token });
  client.on('error', () => {});
  client.connect();
  return client;
}

/** The next message `client` receives in `room`. */
function nextMessage(client, room) {
  return new Promise((resolve) => {
    const off = client.on('message', (message) => {
      if (message.room !== room) return;
      off();
      resolve(message.data);
    });
  });
}

/** What a request's promise settled with: its result, or the error's code and message. */
async function outcome(request) {
  try {
    await request;
    return 'ok';
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}

const result = {};
const alice = await connected(chatUrl, chatHttp, 'alice');
const bob = await connected(chatUrl, chatHttp, 'bob');
await bob.join('lobby');
await alice.join('lobby');
const heard = nextMessage(bob, 'lobby');
await alice.send('lobby', { text: 'hello shop' });
result.chatTransformed = await heard;
result.chatRejected = await outcome(alice.send('lobby', { text: 'buy spam now' }));
result.chatStaffRefused = await outcome(alice.join('staff'));
const carol = await connected(chatUrl, chatHttp, 'staff-carol');
result.chatStaffAllowed = await outcome(carol.join('staff'));

const dan = await connected(notificationsUrl, notificationsHttp, 'dan');
const erin = await connected(notificationsUrl, notificationsHttp, 'erin');
await erin.join('orders');
await dan.join('orders');
const notified = nextMessage(erin, 'orders');
await dan.send('orders', { text: 'order 42 shipped' });
result.notificationsUnchanged = await notified;
result.notificationsStaffJoin = await outcome(dan.join('staff'));

for (const client of [alice, bob, carol, dan, erin]) client.close();
console.log(JSON.stringify(result));
