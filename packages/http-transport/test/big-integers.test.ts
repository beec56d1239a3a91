import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { asRpcRequest, sendText, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

const U64_MAX = '18446744073709551615';
// 2^53 + 1: the first integer a double cannot hold.
const JUST_UNSAFE = '9007199254740993';

let server: TestServer;
const open: HttpTransport[] = [];
let answer: (id: string) => string = (id) => `{"jsonrpc":"2.0","id":${id},"result":null}`;

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/rpc`, timeoutMs: 2_000, ...options });
  open.push(created);
  return created;
}

/** Answers every call with raw body text, so numbers reach the client exactly as written. */
function respondWith(body: (id: string) => string): void {
  answer = body;
}

beforeAll(async () => {
  server = await startServer((request, response) => {
    // A batch is answered with the first request's id.
    const first: unknown = Array.isArray(request.json) ? request.json[0] : request.json;
    sendText(response, 200, answer(JSON.stringify(asRpcRequest(first).id)), { 'content-type': 'application/json' });
  });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await server.stop();
});

const accountBody = (id: string): string =>
  `{"jsonrpc":"2.0","id":${id},"result":{"context":{"slot":341197053},"value":{"lamports":${JUST_UNSAFE},"rentEpoch":${U64_MAX},"space":0,"executable":false,"data":["","base64"]}}}`;

describe('bigIntegers', () => {
  it("'bigint' reads unsafe integers exactly and every other number as JSON.parse does", async () => {
    respondWith(accountBody);
    const value = await transport({ bigIntegers: 'bigint' }).call('getAccountInfo', ['x']);
    expect(value).toEqual({
      context: { slot: 341197053 },
      value: { lamports: 9007199254740993n, rentEpoch: 18446744073709551615n, space: 0, executable: false, data: ['', 'base64'] },
    });
  });

  it("'bigint' keeps floats, exponents, negative and safe 16-digit integers as numbers", async () => {
    respondWith(
      (id) =>
        `{"jsonrpc":"2.0","id":${id},"result":[1.5,-0,1e300,2.5e-7,9007199254740991,-9007199254740991,-${U64_MAX},1234567890123456.5,"${U64_MAX}"]}`,
    );
    const value = await transport({ bigIntegers: 'bigint' }).call('x');
    expect(value).toEqual([
      1.5,
      -0,
      1e300,
      2.5e-7,
      9007199254740991,
      -9007199254740991,
      -18446744073709551615n,
      1234567890123456.5,
      U64_MAX,
    ]);
  });

  it("'bigint' keeps the last of duplicate keys and __proto__ as an own key, like JSON.parse", async () => {
    const result = `{"a":1,"a":${U64_MAX},"__proto__":{"polluted":true}}`;
    respondWith((id) => `{"jsonrpc":"2.0","id":${id},"result":${result}}`);
    const value = await transport({ bigIntegers: 'bigint' }).call<Record<string, unknown>>('x');
    expect(value.a).toBe(18446744073709551615n);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("the default ('round') rounds as JSON.parse does", async () => {
    respondWith(accountBody);
    const value = await transport().call<{ value: { rentEpoch: unknown; lamports: unknown } }>('getAccountInfo', ['x']);
    expect(value.value.rentEpoch).toBe(18446744073709551616);
    expect(value.value.lamports).toBe(9007199254740992);
  });

  it("'bigint' applies to batch answers and to JSON-RPC error data", async () => {
    respondWith((id) => `[{"jsonrpc":"2.0","id":${id},"result":${U64_MAX}}]`);
    const rpc = transport({ bigIntegers: 'bigint' });
    const [outcome] = await rpc.batch([{ method: 'getBalance', params: ['x'] }]);
    expect(outcome).toMatchObject({ ok: true, value: 18446744073709551615n });

    respondWith((id) => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32002,"message":"failed","data":{"minContextSlot":${U64_MAX}}}}`);
    const error: unknown = await rpc.call('getBalance', ['x']).catch((e: unknown) => e);
    expect(isXError(error, 'HTTP_RPC_SERVER_ERROR')).toBe(true);
    expect((error as { context: Record<string, unknown> }).context.rpcData).toEqual({ minContextSlot: 18446744073709551615n });
  });

  it.each([
    ['cut short after a long integer', (id: string) => `{"jsonrpc":"2.0","id":${id},"result":${U64_MAX}`],
    ['a long integer with trailing text', () => `${U64_MAX} sk_live_tail`],
    ['a number with a leading zero', (id: string) => `{"jsonrpc":"2.0","id":${id},"result":0${U64_MAX}}`],
  ])("'bigint' still classifies a body %s as HTTP_MALFORMED_RESPONSE without quoting it in the message", async (_what, body) => {
    respondWith(body);
    const error: unknown = await transport({ bigIntegers: 'bigint' })
      .call('x')
      .catch((e: unknown) => e);
    expect(isXError(error, 'HTTP_MALFORMED_RESPONSE')).toBe(true);
    expect((error as XErrorLike).category).toBe('protocol');
    expect((error as XErrorLike).message).not.toContain(U64_MAX);
    expect((error as XErrorLike).cause).toBeUndefined();
  });
});

interface XErrorLike {
  readonly category: string;
  readonly message: string;
  readonly cause?: unknown;
}

describe('bigint params', () => {
  it('are sent as JSON integers with every digit, in single calls and batches', async () => {
    respondWith((id) => `{"jsonrpc":"2.0","id":${id},"result":0}`);
    const rpc = transport();
    const before = server.received.length;
    await rpc.call('getBlocks', [18446744073709551615n, { minContextSlot: 5n, note: 'keep' }]);
    expect(server.received[before]?.body).toContain(`"params":[${U64_MAX},{"minContextSlot":5,"note":"keep"}]`);

    respondWith((id) => `[{"jsonrpc":"2.0","id":${id},"result":0}]`);
    await rpc.batch([{ method: 'getBlock', params: [9007199254740993n], id: 7 }]);
    expect(server.received[before + 1]?.body).toBe(`[{"jsonrpc":"2.0","id":7,"method":"getBlock","params":[${JUST_UNSAFE}]}]`);
  });

  it('serialise everything else exactly as JSON.stringify does', async () => {
    respondWith((id) => `{"jsonrpc":"2.0","id":${id},"result":0}`);
    const rpc = transport();
    const params = [
      1n,
      { skipped: undefined, when: new Date(0), list: [undefined, Number.NaN, 'é"\n'], custom: { toJSON: () => 'custom' } },
    ];
    const before = server.received.length;
    await rpc.call('x', params, { id: 3 });
    const expected = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'x', params: [1, params[1]] });
    expect(server.received[before]?.body).toBe(expected);
  });
});
