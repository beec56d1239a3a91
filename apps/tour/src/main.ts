import { raidaTour } from './raida.js';
import { solanaTour } from './solana.js';
import { streamsTour } from './streams.js';
import { walletTour } from './wallet.js';
import type { TourOutput } from './tour.js';

// `pnpm start`: every part runs on local simulated clusters, so a fresh clone needs no network.
// Each part is one async function of the output; further parts are appended to `parts`.
const parts: ReadonlyArray<(out: TourOutput) => Promise<void>> = [raidaTour, walletTour, solanaTour, streamsTour];

const out: TourOutput = {
  write: (text) => void process.stdout.write(text),
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
};

try {
  for (const part of parts) await part(out);
} catch (error) {
  process.stderr.write(`tour failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
