import type { Browser, WebSocketRoute } from 'playwright-core';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import type { FaultOptions } from '../../../local/faults/fault-injector.js';
import type { LocalStack } from '../../../local/local-stack.js';
import { ownLocalStack, plainLocalStack } from '../../support/plain-local-stack.js';
import { ChatPage, DESKTOP, launchChromium, type Viewport } from './chat-page.js';

/** How a page is opened besides its name, room and size. */
export interface OpenOptions {
  /** Handles the page's WebSocket (`BrowserContext.routeWebSocket`). */
  readonly socketRoute?: (socket: WebSocketRoute) => void;
}

/** A local stack and Chromium shared by the tests of one `describe`, and the pages they open. */
export interface ChatFixture {
  /** The running stack (available from the first test on). */
  readonly stack: LocalStack;
  /** Opens the demo page as `name` in `room`; closed after the test. */
  open(name: string, room: string, viewport?: Viewport, options?: OpenOptions): Promise<ChatPage>;
  /** The gateway's open connections of user `sub`. */
  connectionsOf(sub: string): string[];
}

/**
 * Starts a local stack from the global setup's assembly and Chromium before
 * the calling `describe`'s tests, closes each test's pages after it, and
 * stops both after the last, reporting what the stack logged as failed.
 * Without faults the stack is the worker's plain one on dynalite (see
 * {@link plainLocalStack}).
 */
export function useChatBrowser(options: { readonly faults?: FaultOptions } = {}): ChatFixture {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  const logs: string[] = [];
  const pages: ChatPage[] = [];

  const log = (line: string) => logs.push(line);
  let release = async () => {};

  beforeAll(async () => {
    const used =
      options.faults === undefined
        ? await plainLocalStack('dynalite', log)
        : await ownLocalStack({
            assembly: inject('cdkOutdir'),
            env: {},
            log,
            faults: options.faults,
          });
    stack = used.stack;
    release = used.release;
    browser = await launchChromium();
  });

  afterEach(async () => {
    const open = pages.splice(0);
    await Promise.allSettled(open.map((chat) => chat.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await release();
    const failures = logs.filter((line) => /"level":"ERROR"|failed:/.test(line));
    if (failures.length > 0) console.warn(`local stack logged errors:\n${failures.join('\n')}`);
  });

  const fixture: ChatFixture = {
    get stack() {
      if (stack === undefined) throw new Error('the local stack has not started');
      return stack;
    },
    async open(name, room, viewport = DESKTOP, options = {}) {
      if (browser === undefined) throw new Error('Chromium has not started');
      const chat = await ChatPage.open(browser, fixture.stack.httpUrl, {
        name,
        room,
        viewport,
        ...options,
      });
      pages.push(chat);
      return chat;
    },
    connectionsOf(sub) {
      return [...fixture.stack.gateway.connections]
        .filter(([, connection]) => connection.authorizer?.principalId === sub)
        .filter(([, connection]) => connection.state === 'open')
        .map(([id]) => id);
    },
  };
  return fixture;
}
