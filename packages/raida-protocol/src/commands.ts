import { DETECT_COIN_LENGTH, POWN_COIN_LENGTH } from './coins.js';
import { RAIDA_STATUS } from './status.js';

export type CommandName = 'echo' | 'version' | 'detect' | 'pown';

export interface CommandSpec {
  readonly name: CommandName;
  /** Request byte 4. */
  readonly group: number;
  /** Request byte 5. */
  readonly command: number;
  /** Bytes per coin record in the payload; 0 for commands without coins. */
  readonly coinRecordLength: number;
  /** Safe to resend. Pown is not: never retry a pown blindly. */
  readonly idempotent: boolean;
  /** Statuses that mean the command ran. */
  readonly successStatuses: readonly number[];
  readonly description: string;
}

const COIN_RESULTS = Object.freeze([RAIDA_STATUS.allPass, RAIDA_STATUS.allFail, RAIDA_STATUS.mixed]);
const PLAIN_SUCCESS = Object.freeze([RAIDA_STATUS.success]);

/** The commands this package builds and parses. */
export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = Object.freeze({
  echo: Object.freeze({
    name: 'echo',
    group: 0,
    command: 0,
    coinRecordLength: 0,
    idempotent: true,
    successStatuses: PLAIN_SUCCESS,
    description: 'Is the server up? Replies 250 with no body.',
  }),
  version: Object.freeze({
    name: 'version',
    group: 0,
    command: 1,
    coinRecordLength: 0,
    idempotent: true,
    successStatuses: PLAIN_SUCCESS,
    description: 'Server software version. Replies 250 with an ASCII body such as 20250323.',
  }),
  detect: Object.freeze({
    name: 'detect',
    group: 1,
    command: 10,
    coinRecordLength: DETECT_COIN_LENGTH,
    idempotent: true,
    successStatuses: COIN_RESULTS,
    description: 'Are these coins authentic? Replies 241, 242 or 243 with a bitfield.',
  }),
  pown: Object.freeze({
    name: 'pown',
    group: 1,
    command: 20,
    coinRecordLength: POWN_COIN_LENGTH,
    idempotent: false,
    successStatuses: COIN_RESULTS,
    description: 'Take ownership: each authentic coin’s AN becomes its PAN. Not idempotent.',
  }),
});

/** Every command in catalogue order. */
export const COMMAND_LIST: readonly CommandSpec[] = Object.freeze([COMMANDS.echo, COMMANDS.version, COMMANDS.detect, COMMANDS.pown]);

/** The catalogue entry for request bytes 4 and 5, or `undefined` for a command this package does not know. */
export function commandByCode(group: number, command: number): CommandSpec | undefined {
  return COMMAND_LIST.find((spec) => spec.group === group && spec.command === command);
}

/** Request body length (challenge + payload + terminator) for `coinCount` coins: 18 + recordLength × n. */
export function requestBodyLength(command: CommandName, coinCount = 0): number {
  return 18 + COMMANDS[command].coinRecordLength * coinCount;
}
