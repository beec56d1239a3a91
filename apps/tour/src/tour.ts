/** What every part of the tour writes to. */
export interface TourOutput {
  /** Writes text as is. */
  write(text: string): void;
  /** ANSI colours in tables. */
  readonly color: boolean;
}

/** A section heading followed by a blank line. */
export function heading(out: TourOutput, text: string): void {
  out.write(`\n${text}\n${'═'.repeat(text.length)}\n\n`);
}

/** A one-line explanation between two outputs. */
export function say(out: TourOutput, text: string): void {
  out.write(`${text}\n`);
}
