import fc from 'fast-check';
import { ACTIONS, ROOM_PATTERN } from '../../../protocol/messages.js';

/** API Gateway's frame limit: bigger frames close the connection with 1009. */
export const MAX_FRAME_BYTES = 32_768;

/** Actions that are not, but look like, the real ones. */
export const NEAR_MISSES = [
  'Join',
  ' join',
  'join ',
  'join\u0000',
  'JOIN',
  'joın',
  'ping\n',
  'sendd',
  'join,send',
  '',
  '$connect',
  '$disconnect',
  '$default',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
] as const;

/** Hand-picked frames at the edges of JSON and of the field rules. */
export const TRICKY_FRAMES = [
  '{"action":"join","room":"fz-a","action":"ping"}',
  '{"action":"ping"}\n{"action":"ping"}',
  ' \t{"action":"ping","id":"spaced"}\r\n',
  '\ufeff{"action":"ping"}',
  '{"action":"ping","id":"\\ud800"}',
  '{"action":"ping","__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}',
  '{"action":{"toString":"join"},"room":"fz-a"}',
  '[{"action":"ping"}]',
  'null',
  '"ping"',
  '1e999',
  '{"action":"history","room":"fz-a","after":1e308}',
  '{"action":"history","room":"fz-a","after":-0,"limit":1.0}',
  '{"action":"history","room":"fz-a","limit":100.5}',
  // Deeper nesting: see deep-data.test.ts.
  `{"action":"send","room":"fz-a","data":${'['.repeat(2000)}${']'.repeat(2000)},"id":"deep"}`,
  '{"action":"send","room":"fz-a"}',
  '{"action":"send","room":"fz-a","data":null}',
  '{"action":"direct","to":"\\ud800","data":1,"id":"lone"}',
  '{"action":"auth","token":"","id":"empty-token"}',
];

/** What the frames draw on besides arbitrary values. */
export interface FrameSpace {
  /** User ids that have open connections (for `to`). */
  readonly userIds: readonly string[];
  /** Tokens for `auth`, valid and not. */
  readonly tokens: readonly string[];
  /** A room no sender may join. */
  readonly forbiddenRoom: string;
}

const nest = (depth: number): unknown => {
  let value: unknown = 'core';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
};

/**
 * Client frames as text, at most {@link MAX_FRAME_BYTES}: arbitrary strings
 * (lone surrogates included), arbitrary JSON, hand-picked edge cases, objects
 * with any fields, and requests of real actions with valid-ish fields, so
 * that many go through. Rooms the senders may join start with `fz-`.
 */
export function frameArbitrary(space: FrameSpace): fc.Arbitrary<string> {
  const lone = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  });
  const anyString = fc.oneof(fc.string({ unit: 'binary' }), lone, fc.string());
  const action = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ACTIONS) },
    { weight: 2, arbitrary: fc.constantFrom(...NEAR_MISSES) },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const room = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('fz-a', 'fz-b', 'fz-c') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{0,61}$/).map((s) => `fz-${s}`) },
    { weight: 1, arbitrary: fc.stringMatching(ROOM_PATTERN) },
    { weight: 1, arbitrary: fc.constant(space.forbiddenRoom) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', 'fz a', 'fz-a ', 'fz/a', 'fz-a\u0000', `fz-${'x'.repeat(62)}`),
    },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const goodId = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.uuid());
  const id = fc.oneof(
    { weight: 5, arbitrary: goodId },
    // Up to 64 code points, so sometimes more than 64 UTF-16 units.
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'i'.repeat(64), 'i'.repeat(65)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const data = fc.oneof(
    { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }).map(nest) },
    // Straddles MAX_DATA_BYTES (16384): a string of n characters serializes to n + 2 bytes.
    { weight: 1, arbitrary: fc.integer({ min: 16_370, max: 16_400 }).map((n) => 'x'.repeat(n)) },
  );
  const to = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...space.userIds) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'u'.repeat(128), 'u'.repeat(129)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const after = fc.oneof(
    { weight: 4, arbitrary: fc.nat({ max: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const limit = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 100 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 101, 1.5, 1e9) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...space.tokens) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const extra = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 3,
  });

  // Any action, every field optional, extra fields: mostly refusals.
  const loose = fc
    .tuple(
      extra,
      fc.record({ action, id, room, to, data, after, limit, token }, { requiredKeys: [] }),
    )
    .map(([more, request]) => JSON.stringify({ ...more, ...request }));
  // A real action with the fields it needs, each valid-ish: many go through.
  const wellFormed = fc
    .tuple(
      fc.constantFrom(...ACTIONS),
      fc.record(
        {
          id: fc.oneof({ weight: 4, arbitrary: goodId }, { weight: 1, arbitrary: id }),
          room: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom('fz-a', 'fz-b') },
            { weight: 1, arbitrary: fc.constant(space.forbiddenRoom) },
            { weight: 1, arbitrary: room },
          ),
          to: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...space.userIds) }, to),
          data,
          after: fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 20 }) }, after),
          limit: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) }, limit),
          token,
        },
        { requiredKeys: ['room', 'to', 'data', 'token'] },
      ),
    )
    .map(([name, request]) => JSON.stringify({ action: name, ...request }));

  return fc
    .oneof(
      { weight: 1, arbitrary: anyString },
      { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.constantFrom(...TRICKY_FRAMES) },
      { weight: 3, arbitrary: loose },
      { weight: 5, arbitrary: wellFormed },
    )
    .filter((text) => Buffer.byteLength(text) <= MAX_FRAME_BYTES);
}
