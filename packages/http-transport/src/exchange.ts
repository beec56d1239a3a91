import type { Dispatcher } from 'undici';
import { abortedError, isXError, throwIfAborted } from '@x/errors';
import type { XError } from '@x/errors';
import { untilAborted } from './body.js';
import { transportFailure } from './classify.js';
import type { ResponseFacts } from './classify.js';
import type { RequestSender } from './dispatcher.js';
import type { Drainer } from './drain.js';
import { httpError } from './errors.js';
import type { CallSettings, TransportSettings } from './options.js';
import { factsOf, failureFromStatus, readJson } from './response.js';
import type { Slots } from './slots.js';

/** A parsed response body with the facts of its HTTP answer. */
export interface Exchanged {
  readonly json: unknown;
  readonly facts: ResponseFacts;
  readonly latencyMs: number;
}

/** What one exchange runs on: the transport's settings, queue, connections and drains. */
export interface ExchangeContext {
  readonly settings: TransportSettings;
  readonly slots: Slots;
  readonly sender: RequestSender;
  readonly drainer: Drainer;
  /** True once `close()` began: an aborted call's connection is then destroyed, not drained. */
  readonly closing: () => boolean;
}

type Phase = 'queued' | 'response' | 'body';
const WAITED_FOR: Readonly<Record<Phase, string>> = {
  queued: 'no free connection',
  response: 'no response',
  body: 'the response body was not complete',
};

/**
 * One exchange, bounded by `timeoutMs` as a whole (queueing, connect, headers, body): sends `payload`
 * and resolves with the parsed body of a 2xx answer, or rejects with the classified failure. Aborting
 * `controller` (the timeout, the caller's signal, `close()`) rejects at once with its reason; the
 * request's connection is then drained in the background when the request was sent, else destroyed.
 */
async function performExchange(
  context: ExchangeContext,
  payload: string,
  call: CallSettings,
  controller: AbortController,
): Promise<Exchanged> {
  const { settings, slots, sender } = context;
  const { label } = settings;
  const { timeoutMs, maxBytes, signal } = call;
  let phase: Phase = 'queued';
  const timer = setTimeout(() => {
    controller.abort(
      httpError('HTTP_TIMEOUT', 'timeout', `${label}: ${WAITED_FOR[phase]} within ${timeoutMs} ms`, { endpoint: label, timeoutMs, phase }),
    );
  }, timeoutMs);
  const onCallerAbort = (): void => controller.abort(abortedError(signal?.reason));
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  const started = performance.now();
  let response: Dispatcher.ResponseData | undefined;
  let pending: Promise<Dispatcher.ResponseData> | undefined;
  const wire = new AbortController();
  const request = { sent: false };
  let holdsSlot = false;
  try {
    await slots.acquire(controller.signal);
    holdsSlot = true;
    phase = 'response';
    pending = sender.send(payload, wire.signal, () => {
      request.sent = true;
    });
    response = await untilAborted(pending, controller.signal);
    // Errors reach us through readLimited; this listener only keeps a destroyed body from raising
    // an unhandled 'error' event.
    response.body.on('error', () => {});
    phase = 'body';
    const facts = factsOf(response);
    if (facts.status < 200 || facts.status > 299) throw await failureFromStatus(response, facts, maxBytes, controller.signal, settings);
    const json = await readJson(response, facts, maxBytes, controller.signal, settings);
    return { json, facts, latencyMs: performance.now() - started };
  } catch (error) {
    const limits = settings.drainLimits;
    const drainable = controller.signal.aborted && request.sent && limits !== false && settings.pipelining > 0 && !context.closing();
    if (pending !== undefined && drainable) {
      context.drainer.drain(pending, wire, limits, () => slots.release());
      holdsSlot = false;
    } else {
      // Destroying an unfinished body (or aborting a request still waiting for its headers) makes
      // undici drop its connection, so the pool slot is free again; on a finished body it does nothing.
      response?.body.destroy();
      wire.abort();
    }
    if (isXError(error)) throw error;
    // The reason is always an XError this transport set: a timeout, the caller's abort or close().
    if (controller.signal.aborted) throw controller.signal.reason as XError;
    throw transportFailure(error, settings.env);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
    if (holdsSlot) slots.release();
  }
}

/** The exchanges in flight, so that `close()` can abort them and wait for them. */
export interface Exchanges {
  /** Starts one exchange; rejects with `HTTP_CLOSED` once closing, or at once for an already-aborted signal. */
  run(payload: string, call: CallSettings): Promise<Exchanged>;
  /** Aborts every exchange in flight with `reason`, then every drain; resolves when all have ended. */
  abortAll(reason: XError): Promise<void>;
}

export function createExchanges(context: ExchangeContext, closedError: () => XError): Exchanges {
  const running = new Map<AbortController, Promise<unknown>>();
  return {
    async run(payload, call) {
      if (context.closing()) throw closedError();
      throwIfAborted(call.signal);
      const controller = new AbortController();
      const attempt = performExchange(context, payload, call, controller);
      running.set(controller, attempt);
      const forget = (): void => {
        running.delete(controller);
      };
      attempt.then(forget, forget);
      return attempt;
    },
    async abortAll(reason) {
      const attempts = [...running.values()];
      for (const controller of running.keys()) controller.abort(reason);
      await Promise.allSettled(attempts);
      // A drain is only an optimisation for later calls; there are none now.
      await context.drainer.cutAll(reason);
    },
  };
}
