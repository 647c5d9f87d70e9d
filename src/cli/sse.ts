/**
 * An incremental parser of a Server-Sent Events stream (the WHATWG "event stream" format): feed it
 * text as it arrives, get back whole events. Used by `pipestate status --watch`.
 */

export interface SseEvent {
  /** "message" when the stream names none */
  readonly event: string;
  readonly data: string;
  /** the last event id seen so far (it persists across events, as in EventSource) */
  readonly id: string | undefined;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private lastId: string | undefined;
  /** the server's requested reconnection delay, ms */
  retryMs: number | undefined;

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  feed(text: string): SseEvent[] {
    // Only the new text can hold a line end (and a lone \r it may complete): a long line arriving
    // in many chunks (a big status event) is scanned once, not once per chunk.
    const scanFrom = Math.max(0, this.buffer.length - 1);
    this.buffer += text;
    const out: SseEvent[] = [];
    // A line ends at \r\n, \n or \r; a trailing lone \r may be the first half of \r\n, so wait.
    const lineEnd = /\r\n|\n|\r(?!$)/g;
    lineEnd.lastIndex = scanFrom;
    let start = 0;
    for (let m = lineEnd.exec(this.buffer); m !== null; m = lineEnd.exec(this.buffer)) {
      const line = this.buffer.slice(start, m.index);
      start = m.index + m[0].length;
      const event = this.line(line);
      if (event) out.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const event = { event: this.event || 'message', data: this.data.join('\n'), id: this.lastId };
      this.event = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
