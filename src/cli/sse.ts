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
  /** the start of a line whose end has not arrived yet, in the chunks it came in */
  private partial: string[] = [];
  /** the last chunk ended with CR: a LF starting the next one is the second half of CRLF */
  private afterCr = false;
  private event = '';
  private data: string[] = [];
  private lastId: string | undefined;
  /** the server's requested reconnection delay, ms */
  retryMs: number | undefined;

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /**
   * Each chunk is scanned once: a line longer than a chunk (a status event of megabytes) is kept
   * as its pieces and joined once when it ends, so parsing stays linear in the stream's size.
   */
  feed(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (this.afterCr && text.startsWith('\n')) start = 1;
    if (text !== '') this.afterCr = false;
    // A line ends at \r\n, \n or \r.
    const lineEnd = /\r\n|\n|\r/g;
    lineEnd.lastIndex = start;
    for (let m = lineEnd.exec(text); m !== null; m = lineEnd.exec(text)) {
      const tail = text.slice(start, m.index);
      const line = this.partial.length === 0 ? tail : this.partial.join('') + tail;
      this.partial = [];
      start = m.index + m[0].length;
      if (m[0] === '\r' && start === text.length) this.afterCr = true;
      const event = this.line(line);
      if (event) out.push(event);
    }
    if (start < text.length) this.partial.push(text.slice(start));
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
