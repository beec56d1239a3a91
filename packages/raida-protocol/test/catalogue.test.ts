import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  COMMAND_LIST,
  RAIDA_STATUS,
  STATUS_TABLE,
  commandByCode,
  hasStaleFields,
  isSuccessStatus,
  requestBodyLength,
  statusInfo,
} from '@x/raida-protocol';

describe('status table', () => {
  it('holds every status of the reference with a name, a description and a kind', () => {
    expect(STATUS_TABLE.map((s) => s.code).sort((a, b) => a - b)).toEqual([
      2, 3, 4, 5, 6, 7, 16, 25, 27, 33, 34, 37, 39, 40, 48, 204, 241, 242, 243, 250, 255,
    ]);
    for (const info of STATUS_TABLE) {
      expect(info.name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(info.description.length).toBeGreaterThan(5);
      expect(RAIDA_STATUS[info.name as keyof typeof RAIDA_STATUS]).toBe(info.code);
    }
    expect(statusInfo(250)).toEqual({ code: 250, name: 'success', description: 'Success', kind: 'success', signatureTrusted: true });
    expect(statusInfo(243)).toMatchObject({ name: 'mixed', kind: 'coin-result' });
    expect(statusInfo(3)).toMatchObject({ name: 'invalidRaidaId', kind: 'header-error' });
    expect(statusInfo(48).kind).toBe('server-error');
    expect(statusInfo(34).kind).toBe('request-error');
  });

  it('marks exactly 255, 2–7, 16, 27, 33 and 34 as carrying a stale signature', () => {
    const stale = Array.from({ length: 256 }, (_, code) => code).filter(hasStaleFields);
    expect(stale).toEqual([2, 3, 4, 5, 6, 7, 16, 27, 33, 34, 255]);
  });

  it('describes unknown codes instead of failing, and still checks their signature', () => {
    expect(statusInfo(100)).toEqual({
      code: 100,
      name: 'unknown100',
      description: 'Unknown status 100',
      kind: 'unknown',
      signatureTrusted: true,
    });
  });

  it('counts 250 and the coin results as success', () => {
    expect([250, 241, 242, 243].every(isSuccessStatus)).toBe(true);
    expect([37, 3, 0, 255].some(isSuccessStatus)).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(STATUS_TABLE)).toBe(true);
    expect(Object.isFrozen(RAIDA_STATUS)).toBe(true);
    expect(Object.isFrozen(STATUS_TABLE[0])).toBe(true);
  });
});

describe('command catalogue', () => {
  it('has the reference group and command ids and body sizes', () => {
    expect(COMMAND_LIST.map((c) => [c.name, c.group, c.command, c.coinRecordLength])).toEqual([
      ['echo', 0, 0, 0],
      ['version', 0, 1, 0],
      ['detect', 1, 10, 21],
      ['pown', 1, 20, 37],
    ]);
    expect(requestBodyLength('echo')).toBe(18);
    expect(requestBodyLength('detect', 1)).toBe(39);
    expect(requestBodyLength('pown', 2)).toBe(92);
    expect(COMMANDS.detect.successStatuses).toEqual([241, 242, 243]);
    expect(COMMANDS.version.successStatuses).toEqual([250]);
    expect(COMMAND_LIST.filter((c) => !c.idempotent).map((c) => c.name)).toEqual(['pown']);
  });

  it('looks commands up by wire code', () => {
    expect(commandByCode(1, 20)?.name).toBe('pown');
    expect(commandByCode(0, 1)?.name).toBe('version');
    expect(commandByCode(0, 99)).toBeUndefined();
  });
});
