/**
 * A socket's or server's close callback comes before libuv has released its handle: uv_close
 * callbacks run in the closing phase at the end of the loop iteration. An immediate queued now runs
 * in this iteration's check phase; one queued from there runs in the next iteration, after that
 * closing phase. So once this resolves, every handle closed before it is gone from the process.
 */
export async function handlesReleased(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}
