import { existsSync } from 'node:fs';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type WebSocketRoute,
} from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether there is a browser to run the browser tests with. */
export const chromiumFound = existsSync(CHROMIUM_PATH);

/** How long any single wait of a browser test may take. */
export const WAIT_MS = 10_000;

/** Launches headless Chromium the way the browser tests need it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-dev-shm-usage',
    ],
    timeout: WAIT_MS,
  });
}

/** A window size. */
export interface Viewport {
  readonly width: number;
  readonly height: number;
}

/** A desktop window and a phone (390×844, as an iPhone 12 to 14). */
export const DESKTOP: Viewport = { width: 1100, height: 720 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** A message as the demo page shows it. */
export interface ShownMessage {
  readonly seq: number;
  readonly from: string;
  readonly text: string;
  readonly time: string;
  readonly dateTime: string;
}

/** One person using the demo chat, in a browser context of their own. */
export class ChatPage {
  /** Uncaught errors thrown in the page. */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly name: string,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(String(error)));
  }

  /**
   * Opens the demo at `httpUrl` and joins `room` as `name`, waiting until
   * joined; `socketRoute`, if given, handles the page's WebSocket.
   */
  static async open(
    browser: Browser,
    httpUrl: string,
    options: {
      name: string;
      room: string;
      viewport?: Viewport;
      socketRoute?: (socket: WebSocketRoute) => void;
    },
  ): Promise<ChatPage> {
    const context = await browser.newContext({
      viewport: options.viewport ?? DESKTOP,
      ...(options.viewport === PHONE
        ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
        : {}),
    });
    context.setDefaultTimeout(WAIT_MS);
    if (options.socketRoute !== undefined) await context.routeWebSocket(/./, options.socketRoute);
    const chat = new ChatPage(context, await context.newPage(), options.name);
    await chat.page.goto(httpUrl);
    await chat.page.getByTestId('name').fill(options.name);
    await chat.page.getByTestId('room').fill(options.room);
    await chat.page.getByTestId('join').click();
    await chat.page.locator('[data-testid="member"]').first().waitFor();
    return chat;
  }

  /** The connection state the page shows. */
  state(): Promise<string | null> {
    return this.page.getByTestId('state').getAttribute('data-state');
  }

  /** Names in the member list, in the order shown. */
  members(): Promise<string[]> {
    return this.page.locator('[data-testid="member"] .member-name').allTextContents();
  }

  /** Texts of the notices in the conversation ("Bob joined", "Carol and Dan left"), in order. */
  notices(): Promise<string[]> {
    return this.page.locator('[data-testid="notice"]').allTextContents();
  }

  /** Leaves the room with the page's Leave button, waiting until the join form is back. */
  async leave(): Promise<void> {
    await this.page.getByTestId('leave').click();
    await this.page.getByTestId('join-form').waitFor();
  }

  /** The typing line, or '' while it is hidden. */
  async typing(): Promise<string> {
    const line = this.page.getByTestId('typing');
    const visible = await line.evaluate((node) => node.classList.contains('visible'));
    return visible ? ((await line.textContent()) ?? '') : '';
  }

  /** Messages in the order shown. */
  messages(): Promise<ShownMessage[]> {
    return this.page.locator('[data-testid="message"]').evaluateAll((items) =>
      items.map((item) => {
        const part = (id: string) => item.querySelector(`[data-testid="${id}"]`);
        return {
          seq: Number(item.getAttribute('data-seq')),
          from: part('message-from')?.textContent ?? '',
          text: part('message-text')?.textContent ?? '',
          time: part('message-time')?.textContent ?? '',
          dateTime: part('message-time')?.getAttribute('datetime') ?? '',
        };
      }),
    );
  }

  /** Texts of the messages shown, in order. */
  async texts(): Promise<string[]> {
    return (await this.messages()).map((message) => message.text);
  }

  /** Types into the message box key by key, as a person does. */
  async type(text: string): Promise<void> {
    await this.page.getByTestId('text').pressSequentially(text, { delay: 20 });
  }

  /** Sends what has been typed. */
  async submit(): Promise<void> {
    await this.page.getByTestId('text').press('Enter');
  }

  /** Types `text` at once and sends it. */
  async say(text: string): Promise<void> {
    await this.page.getByTestId('text').fill(text);
    await this.submit();
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
