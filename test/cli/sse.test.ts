/** The event-stream parser used by `pipestate status --watch`. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/cli/sse.js';

const stream =
  'retry: 2000\n\n: keep-alive\n\nid: 0\nevent: status\ndata: {"a":1}\n\nid: 7\nevent: change\ndata: line one\ndata: line two\n\nevent: reset\ndata: x\n\ndata:no space\n\n';
const expected = [
  { event: 'status', data: '{"a":1}', id: '0' },
  { event: 'change', data: 'line one\nline two', id: '7' },
  { event: 'reset', data: 'x', id: '7' },
  { event: 'message', data: 'no space', id: '7' },
];

describe('SseParser', () => {
  it('parses events, comments, ids (which persist), multi-line data and retry', () => {
    const p = new SseParser();
    expect(p.feed(stream)).toEqual(expected);
    expect(p.retryMs).toBe(2000);
    expect(p.lastEventId).toBe('7');
  });

  it('gives the same events however the stream is cut into chunks, with LF, CRLF or CR line ends', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), (cuts, eol) => {
        const text = stream.replace(/\n/g, eol);
        const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
        const p = new SseParser();
        const got = [];
        let from = 0;
        for (const at of [...points, text.length]) {
          got.push(...p.feed(text.slice(from, at)));
          from = at;
        }
        // a final lone CR may still be the first half of CRLF: the last event needs one more byte to end
        got.push(...p.feed(eol === '\r' ? '\n' : ''));
        expect(got).toEqual(expected);
      }),
    );
  });
});

describe('SseParser on large events', () => {
  it('a multi-megabyte data line cut into 64 KB chunks (CRLF split across chunks too) parses to the same event', () => {
    const json = JSON.stringify({ children: Array.from({ length: 40_000 }, (_, i) => ({ id: `n${i}`, state: 'RUNNING' })) });
    const text = `id: 5\r\nevent: status\r\ndata: ${json}\r\n\r\nid: 6\r\nevent: change\r\ndata: {}\r\n\r\n`;
    const p = new SseParser();
    const got = [];
    for (let at = 0; at < text.length; at += 65_535) got.push(...p.feed(text.slice(at, at + 65_535)));
    expect(got).toEqual([
      { event: 'status', data: json, id: '5' },
      { event: 'change', data: '{}', id: '6' },
    ]);
  });
});
