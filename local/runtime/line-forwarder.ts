import type { Readable } from 'node:stream';

/** Calls `write` with each complete line of `stream`, and with the unterminated rest at its end. */
export function forwardLines(stream: Readable, write: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  stream.on('end', () => {
    if (pending !== '') write(pending);
    pending = '';
  });
}
