import {
  type Attributes,
  type Context,
  context as otelContext,
  isSpanContextValid,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { LoadContext, OperationContext, StoreContext } from '@cache/core';
import { errorType } from './error-type.js';
import { CACHE_ATTRIBUTES } from './names.js';
import { followTraces, type NodeRuntime, type NodeTracingChannel } from './node-runtime.js';

/** What the span recorder needs from the options. */
export interface SpanOptions {
  readonly requireParentSpan: boolean;
  readonly keyAttribute: ((key: string | undefined) => string | undefined) | undefined;
}

/**
 * Subscribes the spans to the tracing channels; returns the unsubscription. The span of a trace is made current in
 * an `AsyncLocalStorage` bound to the channels' `start` (Node runs the traced function inside it), so a loader
 * trace or a store trace that begins inside an operation opens its span as a child of the operation's.
 */
export function recordSpans(runtime: NodeRuntime, tracer: Tracer, options: SpanOptions): () => void {
  const storage = runtime.newStorage();
  const spans = new WeakMap<object, Span>();
  const key = options.keyAttribute;

  /** Follows one channel: `open` names and describes the span at start, `close` adds the end attributes. */
  function follow<C extends object>(
    channel: NodeTracingChannel,
    open: (context: C) => { name: string; kind: SpanKind; attributes: Attributes },
    close: (context: C, span: Span) => void,
  ): () => void {
    channel.start.bindStore(storage, (message) => {
      const parent = (storage.getStore() as Context | undefined) ?? otelContext.active();
      if (options.requireParentSpan && !hasSpan(parent)) return parent;
      const { name, kind, attributes } = open(message as C);
      const span = tracer.startSpan(name, { kind, attributes }, parent);
      spans.set(message as object, span);
      return trace.setSpan(parent, span);
    });
    const stop = followTraces<C>(channel, {
      finish(context) {
        const span = spans.get(context);
        if (span === undefined) return;
        spans.delete(context);
        close(context, span);
        const { error } = context as { error?: unknown };
        if (error !== undefined) {
          const type = errorType(error);
          span.setAttribute(CACHE_ATTRIBUTES.errorType, type);
          span.setStatus({ code: SpanStatusCode.ERROR, message: type });
        }
        span.end();
      },
    });
    return () => {
      stop();
      channel.start.unbindStore(storage);
    };
  }

  const withKey = (attributes: Attributes, value: string | undefined): Attributes => {
    const recorded = key?.(value);
    if (recorded !== undefined) attributes[CACHE_ATTRIBUTES.key] = recorded;
    return attributes;
  };

  const stops = [
    follow<OperationContext>(
      runtime.tracingChannel('cache:operation'),
      (context) => ({
        name: `cache.${context.operation}`,
        kind: SpanKind.INTERNAL,
        attributes: withKey(
          {
            [CACHE_ATTRIBUTES.operation]: context.operation,
            [CACHE_ATTRIBUTES.namespace]: context.namespace,
          },
          context.key,
        ),
      }),
      (context, span) => {
        if (context.outcome !== undefined) span.setAttribute(CACHE_ATTRIBUTES.outcome, context.outcome);
        if (context.source !== undefined) span.setAttribute(CACHE_ATTRIBUTES.tier, context.source);
        if (context.failSafe !== undefined) span.setAttribute(CACHE_ATTRIBUTES.failSafe, context.failSafe);
      },
    ),
    follow<LoadContext>(
      runtime.tracingChannel('cache:load'),
      (context) => ({
        name: 'cache.load',
        kind: SpanKind.INTERNAL,
        attributes: withKey(
          {
            [CACHE_ATTRIBUTES.namespace]: context.namespace,
            [CACHE_ATTRIBUTES.background]: context.background,
          },
          context.key,
        ),
      }),
      (context, span) => {
        if (context.outcome !== undefined) span.setAttribute(CACHE_ATTRIBUTES.loaderOutcome, context.outcome);
      },
    ),
    follow<StoreContext>(
      runtime.tracingChannel('cache:store'),
      (context) => ({
        name: `${context.operation} ${context.system}`,
        kind: SpanKind.CLIENT,
        attributes: withKey(
          {
            [CACHE_ATTRIBUTES.dbSystem]: context.system,
            [CACHE_ATTRIBUTES.dbOperation]: context.operation,
            [CACHE_ATTRIBUTES.backend]: context.backend,
          },
          context.key,
        ),
      }),
      (context, span) => {
        if (context.bytes !== undefined) span.setAttribute(CACHE_ATTRIBUTES.storeBytes, context.bytes);
      },
    ),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

function hasSpan(context: Context): boolean {
  const span = trace.getSpan(context);
  return span !== undefined && isSpanContextValid(span.spanContext());
}
