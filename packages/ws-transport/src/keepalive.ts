/** The part of a socket keep-alive needs: send a ping, hear the pong. */
export interface PingTarget {
  ping(): void;
  on(event: 'pong', listener: () => void): unknown;
  off(event: 'pong', listener: () => void): unknown;
}

/**
 * Sends a ping every `intervalMs`; when a pong takes longer than `pongTimeoutMs`, calls `onTimeout`
 * once and stops. Returns the function that stops it (clears both timers and the pong listener).
 */
export function startKeepAlive(socket: PingTarget, intervalMs: number, pongTimeoutMs: number, onTimeout: () => void): () => void {
  let waiting: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const onPong = (): void => {
    if (waiting !== undefined) clearTimeout(waiting);
    waiting = undefined;
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(ticker);
    if (waiting !== undefined) clearTimeout(waiting);
    socket.off('pong', onPong);
  };
  const ticker = setInterval(() => {
    if (waiting !== undefined) return;
    waiting = setTimeout(() => {
      stop();
      onTimeout();
    }, pongTimeoutMs);
    try {
      socket.ping();
    } catch {
      // A socket that cannot send is closing; its close event ends the keep-alive.
    }
  }, intervalMs);
  socket.on('pong', onPong);
  return stop;
}
