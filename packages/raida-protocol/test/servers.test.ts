import { describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { PUBLIC_RAIDA_SERVERS, RAIDA_COUNT, RAIDA_QUORUM, formatServerAddress, parseServerList } from '@x/raida-protocol';
import { expectXError } from './helpers.js';

const REFERENCE_TABLE = `
78.46.170.45:50000 47.229.9.94:50001 209.46.126.167:50002 116.203.157.233:50003 95.183.51.104:50004
31.163.201.90:50005 52.14.83.91:50006 161.97.169.229:50007 13.234.55.11:50008 124.187.106.233:50009
94.130.179.247:50010 67.181.90.11:50011 3.16.169.178:50012 113.30.247.109:50013 168.220.219.199:50014
185.37.61.73:50015 193.7.195.250:50016 5.161.63.179:50017 76.114.47.144:50018 190.105.235.113:50019
184.18.166.118:50020 125.236.210.184:50021 5.161.123.254:50022 130.255.77.156:50023 209.205.66.24:50024`;

describe('PUBLIC_RAIDA_SERVERS', () => {
  it('is the reference list of 25, id = position, port = 50000 + id', () => {
    expect(PUBLIC_RAIDA_SERVERS).toHaveLength(RAIDA_COUNT);
    expect(RAIDA_QUORUM).toBe(13);
    expect(PUBLIC_RAIDA_SERVERS.map(formatServerAddress)).toEqual(REFERENCE_TABLE.trim().split(/\s+/));
    PUBLIC_RAIDA_SERVERS.forEach((server, i) => expect(server).toMatchObject({ id: i, port: 50000 + i }));
    expect(Object.isFrozen(PUBLIC_RAIDA_SERVERS)).toBe(true);
    expect(Object.isFrozen(PUBLIC_RAIDA_SERVERS[0])).toBe(true);
  });

  it('round-trips through parseServerList', () => {
    const text = PUBLIC_RAIDA_SERVERS.map(formatServerAddress).join('\n');
    expect(parseServerList(text, { expectedCount: 25 })).toEqual(PUBLIC_RAIDA_SERVERS);
  });
});

describe('parseServerList', () => {
  it('reads host:port lines with comments, blank lines, CRLF, hostnames and bracketed IPv6', () => {
    const text = '# my raida\r\n\r\n127.0.0.1:50000   # local\n  raida1.example.com:50001\n[::1]:50002\n[2001:db8::7]:443\n';
    expect(parseServerList(text)).toEqual([
      { id: 0, host: '127.0.0.1', port: 50000 },
      { id: 1, host: 'raida1.example.com', port: 50001 },
      { id: 2, host: '::1', port: 50002 },
      { id: 3, host: '2001:db8::7', port: 443 },
    ]);
    expect(formatServerAddress({ host: '::1', port: 50002 })).toBe('[::1]:50002');
  });

  it('reads JSON arrays of strings or of { host, port } objects, with optional ids', () => {
    expect(parseServerList('["10.0.0.1:1", "[::1]:2"]')).toEqual([
      { id: 0, host: '10.0.0.1', port: 1 },
      { id: 1, host: '::1', port: 2 },
    ]);
    expect(parseServerList(' [{"host":"a.example","port":50000},{"host":"[fe80::1]","port":50001,"id":7}] ')).toEqual([
      { id: 0, host: 'a.example', port: 50000 },
      { id: 7, host: 'fe80::1', port: 50001 },
    ]);
  });

  it.each([
    ['127.0.0.1:50000\nnot-an-address\n', 'Server list line 2: "not-an-address" is not host:port', { line: 2 }],
    ['# c\n\n127.0.0.1:0', 'Server list line 3: "0" is not a port from 1 to 65535', { line: 3 }],
    ['127.0.0.1:65536', 'Server list line 1: "65536" is not a port from 1 to 65535', { line: 1 }],
    ['host:50000x', 'Server list line 1: "50000x" is not a port from 1 to 65535', { line: 1 }],
    ['::1:50000', 'Server list line 1: write an IPv6 address in brackets, as [address]:port ("::1:50000")', { line: 1 }],
    ['[1.2.3.4]:5', 'Server list line 1: brackets are only for IPv6 addresses ("[1.2.3.4]:5")', { line: 1 }],
    ['[::g]:5', 'Server list line 1: "::g" is not a valid IPv6 address', { line: 1 }],
    ['256.1.1.1:5', 'Server list line 1: "256.1.1.1" is not a valid hostname or IPv4 address', { line: 1 }],
    ['bad_host!:5', 'Server list line 1: "bad_host!" is not a valid hostname or IPv4 address', { line: 1 }],
    [':5', 'Server list line 1: the host is empty', { line: 1 }],
    ['["1.2.3.4:5", 3]', 'Server list entry 1: expected "host:port" or an object with host and port', { entry: 1 }],
    ['[{"host":"a","port":"5"}]', 'Server list entry 0: port must be an integer from 1 to 65535', { entry: 0 }],
    ['[{"port":5}]', 'Server list entry 0: host must be a string', { entry: 0 }],
    ['["x"]', 'Server list entry 0: "x" is not host:port', { entry: 0 }],
    ['[{"host":"a","port":5,"id":-1}]', 'Server list entry 0: id must be an integer from 0 to 24', { entry: 0 }],
    ['[{"host":"a","port":5,"id":25}]', 'Server list entry 0: id must be an integer from 0 to 24', { entry: 0 }],
    ['[{"host":"a","port":5,"id":1},{"host":"b","port":6}]', 'Server list names id 1 twice', { index: 1, id: 1 }],
    ['127.0.0.1:50000\n127.0.0.1:50000', 'Server list names address 127.0.0.1:50000 twice', { index: 1, id: 1 }],
    ['Raida.Example:7\nraida.example:7', 'Server list names address raida.example:7 twice', { index: 1, id: 1 }],
    [
      Array.from({ length: 26 }, (_, i) => `127.0.0.1:${50000 + i}`).join('\n'),
      'Server list has 26 servers; a RAIDA has 25 (ids 0 to 24)',
      { count: 26 },
    ],
    ['{"host":"a"}', 'A JSON server list must be an array', {}],
    ['# nothing\n\n', 'The server list is empty', {}],
  ])('%j → %s', (text, message, context) => {
    const error = expectXError(() => parseServerList(text), 'RAIDA_INVALID_SERVER_LIST', 'config');
    expect(error.message).toBe(message);
    // The typed context names the place, and the problem without it (what a caller rewords, e.g. a comma list's entries).
    expect(error.context).toEqual({ ...context, problem: expect.any(String) as unknown });
    if (!isXError(error, 'RAIDA_INVALID_SERVER_LIST')) throw new Error('unreachable');
    expect(message.endsWith(error.context.problem)).toBe(true);
    expect(error.context.problem).not.toMatch(/^Server list (line|entry) \d+/);
  });

  it('reports invalid JSON and a wrong count', () => {
    expect(expectXError(() => parseServerList('[1, 2'), 'RAIDA_INVALID_SERVER_LIST', 'config').message).toMatch(
      /^Server list is not valid JSON: /,
    );
    const error = expectXError(() => parseServerList('127.0.0.1:1', { expectedCount: 25 }), 'RAIDA_INVALID_SERVER_LIST', 'config');
    expect(error.message).toBe('Server list has 1 servers, expected 25');
  });
});
