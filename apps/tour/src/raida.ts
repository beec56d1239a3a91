import { createRaidaClient } from '@x/raida-client';
import { FRACKED_ON, renderResult, startLocalRaida } from '@x/raida-cli';
import { heading, say } from './tour.js';
import type { TourOutput } from './tour.js';

/** Short enough to keep the tour quick, long enough that loopback replies never miss it. */
const TIMEOUT_MS = 1000;
const SILENT = [7, 19];
const SLOW = { 3: 1500, 12: 400 };

/**
 * Part 1: a local RAIDA of 25 real UDP servers, two of them down and two slow, then an echo and a
 * detect through `@x/raida-client`, printed with the `raida` command's tables.
 */
export async function raidaTour(out: TourOutput): Promise<void> {
  heading(out, 'RAIDA: 25 UDP servers, one packet each, 13 of 25 must agree');
  const local = await startLocalRaida({ silent: SILENT, slow: SLOW });
  const client = createRaidaClient({ servers: local.servers, attemptTimeoutMs: TIMEOUT_MS });
  try {
    say(out, `Started a simulated RAIDA on 127.0.0.1 (@x/testkit): 25 servers speaking the real wire protocol.`);
    say(out, `Servers ${SILENT.join(' and ')} are down, server 3 answers after 1.5 s and server 12 after 0.4 s; every request has a ${TIMEOUT_MS} ms timeout.`);

    say(out, `\n$ raida echo   — is each server up? Each gets its own packet (its RAIDA id, a fresh challenge), and every reply's signature is checked.`);
    const echo = await client.echo();
    out.write(renderResult(echo, { color: out.color }));
    say(out, `The down servers and the one slower than ${TIMEOUT_MS} ms show as timeouts at exactly ${TIMEOUT_MS} ms; nobody else waited for them.`);

    say(out, `\n$ raida detect — three coins from a wallet: a good one, one whose ANs are wrong on servers ${FRACKED_ON.join(' and ')}, and a counterfeit.`);
    const detect = await client.detect(local.demoCoins.map((demo) => demo.coin));
    out.write(renderResult(detect, { color: out.color }));
    say(out, `Each coin's verdict comes from 25 votes: 13 passes make it authentic, and the servers that failed an authentic coin are named, as they need healing.`);
    say(out, `Silent servers leave a vote unknown, which is not a failure; with 13 unknowns a coin would stay in limbo.`);

    say(out, `\nTry it: pnpm raida echo --local · pnpm raida detect --local --json · pnpm raida --help`);
  } finally {
    await client.close();
    await local.close();
  }
}
