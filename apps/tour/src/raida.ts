import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatServerAddress } from '@x/raida-protocol';
import { DEMO_FRACKED_ON, startDemoRaida } from '@x/testkit';
import { raida } from './raida-cli.js';
import { heading, say } from './tour.js';
import type { TourOutput } from './tour.js';

/** Short enough to keep the tour quick, long enough that loopback replies never miss it. */
const TIMEOUT_MS = 1000;
const SILENT = [7, 19];
const SLOW = { 3: 1500, 12: 400 };

/**
 * Part 1: a local RAIDA of 25 real UDP servers (`startDemoRaida` of `@x/testkit`), two of them down and two slow,
 * then `raida echo` and `raida detect` run against it as the command a user types.
 */
export async function raidaTour(out: TourOutput): Promise<void> {
  heading(out, 'RAIDA: 25 UDP servers, one packet each, 13 of 25 must agree');
  const local = await startDemoRaida({ silent: SILENT, slow: SLOW });
  const dir = await mkdtemp(join(tmpdir(), 'raida-tour-'));
  const servers = local.servers.map(formatServerAddress).join(',');
  const coins = join(dir, 'three.bin');
  try {
    say(out, `Started a simulated RAIDA on 127.0.0.1 (@x/testkit): 25 servers speaking the real wire protocol.`);
    say(
      out,
      `Servers ${SILENT.join(' and ')} are down, server 3 answers after 1.5 s and server 12 after 0.4 s; every request has a ${TIMEOUT_MS} ms timeout.`,
    );

    const where = `--servers <the 25 local servers> --timeout ${TIMEOUT_MS}`;
    say(
      out,
      `\nraida echo: is each server up? Each gets its own packet (its RAIDA id, a fresh challenge), and every reply's signature is checked.`,
    );
    await raida(out, ['echo', '--servers', servers, '--timeout', String(TIMEOUT_MS)], `echo ${where}`);
    say(
      out,
      `The down servers and the one slower than ${TIMEOUT_MS} ms show as timeouts at exactly ${TIMEOUT_MS} ms; nobody else waited for them.`,
    );

    say(
      out,
      `\nraida detect: three coins from a wallet (a format 9 file written by \`raida demo-coins\`): a good one, one whose ANs are wrong`,
    );
    say(out, `on servers ${DEMO_FRACKED_ON.join(' and ')}, and a counterfeit.`);
    await raida(out, ['demo-coins', coins, '--local'], '');
    await raida(
      out,
      ['detect', '--coins', coins, '--servers', servers, '--timeout', String(TIMEOUT_MS)],
      `detect --coins three.bin ${where}`,
    );
    say(
      out,
      `Each coin's verdict comes from 25 votes: 13 passes make it authentic, and the servers that failed an authentic coin are named, as they need healing.`,
    );
    say(out, `Silent servers leave a vote unknown, which is not a failure; with 13 unknowns a coin would stay in limbo.`);

    say(out, `\nTry it: pnpm raida echo --local · pnpm raida detect --local --json · pnpm raida --help`);
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}
