/**
 * From a request to the caller's parameters, the cheapest refusal first, so that anonymous work
 * costs next to nothing:
 *
 * 1. Credentials that arrive before the body (the X-Bkapi-Authorization header, or the query
 *    string) are checked before a byte of the body is read; wrong ones are refused there.
 * 2. Otherwise the credentials are in the body (ESB style). Its first `maxBodyBytes` are scanned
 *    for them without parsing (credential-scan.ts: at most `maxKeys` top-level keys or form
 *    parameters, bounded depth and credential size) and checked before the body is parsed, or
 *    read any further.
 * 3. The body is parsed: a create_task body of 64 KiB or more on a worker thread, its pipeline
 *    compiled there too (definition-parser.ts), and unpacked in slices; others here.
 * 4. All the parameters (query, then body, then path) are authenticated once more, which is what
 *    decides, and the secret is dropped so that nothing downstream can log it.
 *
 * Bodies are limited per route: create_task (a whole pipeline definition) to
 * `maxDefinitionBytes`, every other route to `maxBodyBytes`.
 */
import type { IncomingMessage } from 'node:http';
import { namesApp, type Caller, type Authenticator } from './auth.js';
import { alreadyParsed, isForm, parseBody, queryParams, readRaw, type Params } from './body.js';
import { scanForm, scanJson, type ScanLimits } from './credential-scan.js';
import { DefinitionParser, OFF_THREAD_BYTES } from './definition-parser.js';
import { busy, malformedJson, notAnObject } from './refusal.js';
import type { Match } from './routes.js';
import type { Slicer } from './slicer.js';

export interface IntakeOptions {
  /** bytes of a request body, create_task's aside; default 1 MiB */
  readonly maxBodyBytes: number;
  /** bytes of a create_task body; default 64 MiB */
  readonly maxDefinitionBytes: number;
  /** ms to receive a body; default 10 s */
  readonly bodyTimeoutMs: number;
  readonly scan: ScanLimits;
}

/** The route whose body is a pipeline definition. */
const DEFINITION_ROUTE = 'create_task';

export interface Intaken {
  /** every parameter, the secret removed */
  readonly params: Params;
  readonly caller: Caller;
}

/**
 * A body labelled a form is read as JSON when it opens as a JSON object (parseBody takes a body that
 * parses as a JSON object as JSON whatever its label, as bk-sops does: `curl -d '{…}'`), so the
 * credential scan and the off-thread parse look at it the same way.
 */
function readAsForm(contentType: string | undefined, body: Uint8Array): boolean {
  if (!isForm(contentType)) return false;
  const first = firstByte(body);
  return first === undefined || first !== OPEN_BRACE;
}

const OPEN_BRACE = 0x7b;
/** white space, and the bytes of a UTF-8 byte order mark */
const SKIPPED: ReadonlySet<number> = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]);

/** The body's first byte that is not white space; undefined when there is none. */
function firstByte(body: Uint8Array): number | undefined {
  for (const byte of body) if (!SKIPPED.has(byte)) return byte;
  return undefined;
}

/**
 * A body read as JSON that does not open an object can never be a request: it is refused as
 * parseBody refuses it (not valid JSON, or not an object) before asking who sent it, which costs
 * no more than the refusal of an anonymous caller and says what is wrong.
 */
function refuseNonObject(head: Uint8Array): void {
  const first = firstByte(head);
  if (first === undefined || first === OPEN_BRACE) return;
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head));
  } catch {
    throw malformedJson();
  }
  throw notAnObject();
}

export class Intake {
  readonly definitions = new DefinitionParser();

  constructor(
    private readonly auth: Authenticator,
    readonly options: IntakeOptions,
    private readonly slicer: Slicer,
  ) {}

  async read(req: IncomingMessage, url: URL, match: Match): Promise<Intaken> {
    const query = queryParams(url.searchParams, match.lists);
    const checked = this.auth.enabled && namesApp(query, req.headers);
    if (checked) this.auth.authenticate(query, req.headers);
    const fromBody = req.method === 'POST' ? await this.body(req, match, query, !this.auth.enabled || checked) : {};
    const params: Params = { ...query, ...fromBody, ...Object.fromEntries(match.pathParams) };
    const caller = this.auth.authenticate(params, req.headers);
    const { bk_app_secret: _secret, ...rest } = params;
    return { params: rest, caller };
  }

  close(): void {
    this.definitions.close();
  }

  private async body(req: IncomingMessage, match: Match, query: Params, authenticated: boolean): Promise<Params> {
    const parsed = alreadyParsed(req, match.lists);
    if (parsed !== undefined) return parsed;
    const { maxBodyBytes, maxDefinitionBytes, bodyTimeoutMs, scan } = this.options;
    const definition = match.route.name === DEFINITION_ROUTE;
    const contentType = req.headers['content-type'];
    const raw = await readRaw(req, {
      limitBytes: definition ? maxDefinitionBytes : maxBodyBytes,
      timeoutMs: bodyTimeoutMs,
      check: authenticated
        ? undefined
        : {
            atBytes: maxBodyBytes,
            run: (head) => {
              const asForm = readAsForm(contentType, head);
              if (!asForm) refuseNonObject(head);
              const found = (asForm ? scanForm : scanJson)(head, scan).credentials;
              this.auth.authenticate({ ...query, ...found }, req.headers);
            },
          },
    });
    if (!definition || raw.length < OFF_THREAD_BYTES || readAsForm(contentType, raw)) return parseBody(raw, contentType, match.lists, scan);
    if (this.definitions.full) throw busy(`${this.definitions.queue} task definitions are waiting to be parsed`, 1);
    const { params, pipeline } = await this.definitions.parse(raw);
    return pipeline === undefined ? params : { ...params, pipeline: await this.slicer.run(pipeline) };
  }
}
