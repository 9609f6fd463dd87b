/**
 * Failed logins slowed per source address: each consecutive failure waits twice as long before
 * its error is sent (capped), and `maxFailures` in a row lock the address out for `lockoutMs`
 * (every login refused, the right password too). A success clears the address. The table is
 * bounded: entries idle past the lockout window are dropped, and past `maxEntries` the oldest go.
 */

export interface LoginThrottleOptions {
  /** Consecutive failures that lock an address out (0: never locked). */
  maxFailures?: number;
  /** How long a lockout lasts, and how long a failure is remembered. */
  lockoutMs?: number;
  /** The delay of the first failure; doubled for each next one. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Addresses remembered at most. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  /** When the last failure was. */
  at: number;
  /** Locked until then (0: not locked). */
  lockedUntil: number;
}

export type FailureVerdict = { delayMs: number; locked: boolean; failures: number };

export const LOGIN_DEFAULTS = { maxFailures: 10, lockoutMs: 60_000, baseDelayMs: 50, maxDelayMs: 2_000 } as const;

export class LoginThrottle {
  // A Map keeps insertion order: re-inserting on each failure keeps the oldest first.
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly lockoutMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: LoginThrottleOptions = {}) {
    this.maxFailures = o.maxFailures ?? LOGIN_DEFAULTS.maxFailures;
    this.lockoutMs = o.lockoutMs ?? LOGIN_DEFAULTS.lockoutMs;
    this.baseDelayMs = o.baseDelayMs ?? LOGIN_DEFAULTS.baseDelayMs;
    this.maxDelayMs = o.maxDelayMs ?? LOGIN_DEFAULTS.maxDelayMs;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Milliseconds `address` stays locked out (0: it may try). */
  lockedFor(address: string): number {
    const e = this.live(address);
    return e === undefined ? 0 : Math.max(0, e.lockedUntil - this.now());
  }

  /** Records a failed login: how long to hold its error back, and whether the address is now locked. */
  failed(address: string): FailureVerdict {
    const now = this.now();
    const e = this.live(address) ?? { failures: 0, at: now, lockedUntil: 0 };
    e.failures += 1;
    e.at = now;
    const locked = this.maxFailures > 0 && e.failures >= this.maxFailures;
    if (locked) e.lockedUntil = now + this.lockoutMs;
    this.entries.delete(address);
    this.entries.set(address, e);
    this.prune(now);
    const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(e.failures - 1, 30));
    return { delayMs, locked, failures: e.failures };
  }

  succeeded(address: string): void {
    this.entries.delete(address);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry of `address` unless it has expired (a lockout over, a failure forgotten). */
  private live(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e === undefined) return undefined;
    if (this.expired(e, this.now())) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }

  private expired(e: Entry, now: number): boolean {
    return e.lockedUntil > 0 ? now >= e.lockedUntil : now - e.at >= this.lockoutMs;
  }

  private prune(now: number): void {
    for (const [address, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && !this.expired(e, now)) break;
      this.entries.delete(address);
    }
  }
}
