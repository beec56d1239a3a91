import type { ServerResponse } from 'node:http';
import { XError } from '@x/errors';

function proxyError(code: string, category: 'timeout' | 'aborted', message: string): XError {
  return new XError({ code, category, message });
}

/** JSON-RPC requests in flight, each under its own deadline and abort controller, so that `close()` can wait for them or cut them off. */
export interface InFlight {
  /** Runs `handler` under a controller that aborts at `requestDeadlineMs`, when the client goes away, or at shutdown. */
  track(response: ServerResponse, handler: (controller: AbortController) => Promise<void>): Promise<void>;
  /** Lets the requests in flight finish for up to `graceMs`, then aborts the rest and waits for them to settle. */
  drain(graceMs: number): Promise<void>;
}

export function createInFlight(requestDeadlineMs: number): InFlight {
  const entries = new Set<{ readonly controller: AbortController; readonly done: Promise<void> }>();

  const track = async (response: ServerResponse, handler: (controller: AbortController) => Promise<void>): Promise<void> => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(proxyError('PROXY_REQUEST_TIMEOUT', 'timeout', `Request time limit of ${requestDeadlineMs} ms exceeded`));
    }, requestDeadlineMs);
    // A client that goes away cancels its calls upstream: nobody is left to read the answer.
    const onClose = (): void => {
      if (!response.writableFinished) controller.abort(proxyError('PROXY_CLIENT_GONE', 'aborted', 'The client closed the connection'));
    };
    response.once('close', onClose);
    let settle: () => void = () => undefined;
    const entry = { controller, done: new Promise<void>((resolve) => (settle = resolve)) };
    entries.add(entry);
    try {
      await handler(controller);
    } finally {
      clearTimeout(timer);
      response.off('close', onClose);
      entries.delete(entry);
      settle();
    }
  };

  const drain = async (graceMs: number): Promise<void> => {
    const pending = [...entries];
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(pending.map((entry) => entry.done)), grace]);
    clearTimeout(timer);
    const shutdown = proxyError('PROXY_SHUTTING_DOWN', 'aborted', 'The proxy is shutting down');
    for (const entry of entries) entry.controller.abort(shutdown);
    await Promise.all([...entries].map((entry) => entry.done));
  };

  return { track, drain };
}
