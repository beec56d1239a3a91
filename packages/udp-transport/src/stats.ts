import type { UdpStats } from './types.js';

/** The live counters behind {@link UdpStats}, written on the hot path. */
export interface Counters {
  sent: number;
  received: number;
  droppedSpoofed: number;
  droppedLate: number;
  droppedOversize: number;
  droppedRejected: number;
  timeouts: number;
  errors: number;
  aborted: number;
  inFlight: number;
}

export function createCounters(): Counters {
  return {
    sent: 0,
    received: 0,
    droppedSpoofed: 0,
    droppedLate: 0,
    droppedOversize: 0,
    droppedRejected: 0,
    timeouts: 0,
    errors: 0,
    aborted: 0,
    inFlight: 0,
  };
}

/** A copy of the counters, plus the open-socket gauge. */
export function snapshot(counters: Counters, openSockets: number): UdpStats {
  return { ...counters, openSockets };
}
