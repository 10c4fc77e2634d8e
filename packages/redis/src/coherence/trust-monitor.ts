import { CacheError } from '@cache/core';
import type { RedisAddress } from '../address.js';
import type { BusSettings } from './bus-target.js';
import type { CoherenceOperation } from './events.js';
import { type Channels, heartbeatMessage, parseHeartbeat } from './messages.js';
import type { ResolvedCoherenceSettings } from './options.js';
import type { Publisher } from './publisher.js';
import { SubscriberSession } from './subscriber.js';

/** What the monitor needs from the layer it serves. */
export interface TrustHooks {
  /** Flip the L1 trust flag (called on changes only). */
  setTrusted(trusted: boolean, reason: string): void;
  /** Drop every L1 copy; called once per new session, before it is trusted. */
  clearL1(): Promise<void>;
  /** A message from the invalidation channel. */
  invalidation(message: string): void;
  /** A message on this instance's heartbeat channel (an echo of its own heartbeat). */
  heartbeatReceived(): void;
  /** A failure to report as it happens. */
  report(operation: CoherenceOperation, error: unknown): void;
  /** A heartbeat was published: publishing works. */
  heartbeatPublished(): void;
  /** A heartbeat could not be published (the layer reports it once per publishing outage). */
  heartbeatFailed(error: unknown): void;
}

const MAX_PENDING = 64;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2000;

/**
 * Decides when L1 may be trusted. A subscriber session is trusted only after a heartbeat it published came back
 * through Redis on that very session, and only after L1 was cleared once for it (a new session cannot know what
 * was published while there was none). Trust then lasts until `sentAt + maxStalenessMs` of the newest echoed
 * heartbeat: Redis delivers a channel's messages in order, so every invalidation published before `sentAt` has
 * been applied when its echo arrives. When trust runs out, or the connection reports trouble, the session is
 * dropped and a new one is opened (with backoff).
 */
export class TrustMonitor {
  readonly #bus: BusSettings;
  readonly #settings: ResolvedCoherenceSettings;
  readonly #channels: Channels;
  readonly #name: string;
  readonly #publisher: Publisher;
  readonly #hooks: TrustHooks;
  #session: SubscriberSession | undefined;
  #sessionNo = 0;
  #confirmed = false;
  #confirming = false;
  #trustedUntil = 0;
  #seq = 0;
  readonly #pending = new Map<number, number>();
  #attempts = 0;
  #hint: RedisAddress | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Set once a subscription outage has been reported, until a heartbeat comes back on a new session, so a long
   * outage is one report, not one per attempt.
   */
  #quiet = false;
  #closed = false;
  /** Aborts a session being opened when the monitor closes, so no connection attempt outlives it. */
  readonly #aborter = new AbortController();
  /** Subscriber sessions opened so far. */
  sessions = 0;

  constructor(
    bus: BusSettings,
    settings: ResolvedCoherenceSettings,
    channels: Channels,
    name: string,
    publisher: Publisher,
    hooks: TrustHooks,
  ) {
    this.#bus = bus;
    this.#settings = settings;
    this.#channels = channels;
    this.#name = name;
    this.#publisher = publisher;
    this.#hooks = hooks;
  }

  /** Opens the first session and starts the heartbeat. */
  start(): void {
    this.#heartbeatTimer = setInterval(() => this.#beat(), this.#settings.heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
    this.#open();
  }

  /** Drops trust now (L1 failed to drop a copy, say): a new session and a cleared L1 follow. */
  distrust(reason: string): void {
    this.#lose(this.#sessionNo, reason, undefined);
  }

  #open(): void {
    if (this.#closed) return;
    const no = ++this.#sessionNo;
    this.sessions++;
    SubscriberSession.open({
      settings: this.#bus,
      channels: this.#channels,
      name: this.#name,
      hint: this.#hint,
      timeoutMs: this.#settings.connectTimeoutMs,
      signal: this.#aborter.signal,
      events: {
        message: (channel, message) => this.#onMessage(no, channel, message),
        lost: (error) => this.#lose(no, 'subscriber connection lost', error),
      },
    }).then(
      (session) => {
        if (this.#closed || no !== this.#sessionNo) {
          session.close();
          return;
        }
        this.#session = session;
        this.#hint = session.address;
        this.#beat();
        // The first heartbeat has the whole bound to come back; past it, this session is given up too.
        this.#armDeadline(no, this.#settings.clock() + this.#settings.maxStalenessMs);
      },
      (error: unknown) => {
        if (this.#closed || no !== this.#sessionNo) return;
        this.#quietReport('subscribe', error);
        this.#retry();
      },
    );
  }

  #retry(): void {
    clearTimeout(this.#retryTimer);
    const attempt = this.#attempts++;
    const delay =
      attempt === 0
        ? 0
        : Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delay);
    this.#retryTimer.unref();
  }

  #beat(): void {
    if (this.#session === undefined || this.#closed) return;
    const seq = ++this.#seq;
    this.#pending.set(seq, this.#settings.clock());
    if (this.#pending.size > MAX_PENDING) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    this.#publisher.publish(this.#channels.heartbeat, heartbeatMessage(this.#sessionNo, seq)).then(
      () => this.#hooks.heartbeatPublished(),
      (error: unknown) => this.#hooks.heartbeatFailed(error),
    );
  }

  #onMessage(no: number, channel: string, message: string): void {
    if (no !== this.#sessionNo || this.#closed) return;
    if (channel === this.#channels.heartbeat) {
      this.#hooks.heartbeatReceived();
      this.#onEcho(no, message);
    } else this.#hooks.invalidation(message);
  }

  #onEcho(no: number, message: string): void {
    const beat = parseHeartbeat(message);
    if (beat === undefined || beat.session !== no) return;
    const sentAt = this.#pending.get(beat.seq);
    if (sentAt === undefined) return;
    for (const seq of this.#pending.keys()) {
      if (seq > beat.seq) break;
      this.#pending.delete(seq);
    }
    if (this.#confirmed) {
      this.#extend(no, sentAt);
      return;
    }
    if (this.#confirming) return;
    this.#confirming = true;
    this.#hooks.clearL1().then(
      () => {
        this.#confirming = false;
        if (this.#closed || no !== this.#sessionNo) return;
        this.#confirmed = true;
        this.#attempts = 0;
        this.#quiet = false;
        this.#extend(no, sentAt);
      },
      (error: unknown) => {
        this.#confirming = false;
        this.#hooks.report('clear', error);
        this.#lose(no, 'L1 could not be cleared', undefined);
      },
    );
  }

  #extend(no: number, sentAt: number): void {
    const until = sentAt + this.#settings.maxStalenessMs;
    if (until <= this.#trustedUntil) return;
    this.#trustedUntil = until;
    // An echo that took longer than the bound proves nothing for now; the deadline timer deals with it.
    if (until <= this.#settings.clock()) return;
    this.#hooks.setTrusted(true, 'heartbeat confirmed');
    this.#armDeadline(no, until);
  }

  #armDeadline(no: number, at: number): void {
    clearTimeout(this.#deadlineTimer);
    const wait = Math.max(0, at - this.#settings.clock());
    // +1: timers may fire a fraction of a millisecond early by the monotonic clock.
    this.#deadlineTimer = setTimeout(() => this.#checkDeadline(no), Math.ceil(wait) + 1);
    this.#deadlineTimer.unref();
  }

  #checkDeadline(no: number): void {
    if (no !== this.#sessionNo || this.#closed) return;
    const now = this.#settings.clock();
    const until = this.#confirmed ? this.#trustedUntil : 0;
    if (this.#confirmed && now < until) {
      this.#armDeadline(no, until);
      return;
    }
    const reason = this.#confirmed ? 'heartbeat overdue' : 'heartbeat not confirmed';
    this.#lose(
      no,
      reason,
      new CacheError('TIMEOUT', `coherence: ${reason} within ${this.#settings.maxStalenessMs} ms`, {
        operation: 'connect',
      }),
    );
  }

  /** Stops trusting L1, drops the session and opens a new one. Ignored for a session already replaced. */
  #lose(no: number, reason: string, error: unknown): void {
    if (no !== this.#sessionNo || this.#closed) return;
    this.#hooks.setTrusted(false, reason);
    if (error !== undefined) this.#quietReport('subscribe', error);
    this.#reset();
    this.#sessionNo++;
    this.#retry();
  }

  #reset(): void {
    this.#session?.close();
    this.#session = undefined;
    this.#confirmed = false;
    this.#trustedUntil = 0;
    this.#pending.clear();
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
  }

  #quietReport(operation: 'subscribe', error: unknown): void {
    if (this.#quiet) return;
    this.#quiet = true;
    this.#hooks.report(operation, error);
  }

  /** Stops the heartbeat and drops the session. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#retryTimer);
    this.#aborter.abort();
    this.#reset();
    this.#hooks.setTrusted(false, 'closed');
  }
}
