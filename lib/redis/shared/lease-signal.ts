// The signal a distributed push gets: aborted as soon as its lease may have run out.
//
// Redis starts a lease's PX when it runs the script, which is after this instance sent it, so the
// lease lives at least until `sent + leaseMs` (read on this instance's monotonic clock; a small
// margin covers a difference in clock rates). Past that deadline, without a renewal confirmed
// since, another instance may hold the key: the push must not write any more.
//
// A timer aborts the signal at the deadline, for listeners (fetch, a driver's cancel). A push
// that resumes after an event-loop stall runs before that timer can, so reading `aborted` (or
// calling `throwIfAborted()`) checks the deadline itself: a push that looks before it writes
// never writes after the lease may have gone.

const ABORTED = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;

export class LeaseSignal {
  readonly #controller = new AbortController();
  readonly #margin: number;
  #deadline = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `sent`: performance.now() when the script that took the lease was sent. */
  constructor(
    sent: number,
    private readonly leaseMs: number,
    private readonly reason: () => Error,
  ) {
    this.#margin = Math.min(100, leaseMs / 10);
    const signal = this.#controller.signal;
    const aborted = () => {
      if (!ABORTED.call(signal) && performance.now() >= this.#deadline) this.lost();
      return ABORTED.call(signal) as boolean;
    };
    Object.defineProperties(signal, {
      aborted: { get: aborted },
      throwIfAborted: {
        value: () => {
          if (aborted()) throw signal.reason;
        },
      },
    });
    this.renewed(sent);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** A renewal (or a follow-up's FINISH) sent at `sent` confirmed the lease: a later deadline. */
  renewed(sent: number): void {
    if (ABORTED.call(this.#controller.signal)) return;
    this.#deadline = Math.max(this.#deadline, sent + this.leaseMs - this.#margin);
    this.#arm();
  }

  /** A timer for the deadline; one that fires a little early (whole ms) is armed again. */
  #arm(): void {
    clearTimeout(this.#timer);
    const wait = Math.max(1, Math.ceil(this.#deadline - performance.now()));
    this.#timer = setTimeout(() => {
      if (!this.signal.aborted) this.#arm();
    }, wait);
    this.#timer.unref();
  }

  /** The lease is gone (a renewal found it taken) or may be: abort now. */
  lost(): void {
    clearTimeout(this.#timer);
    if (!ABORTED.call(this.#controller.signal)) this.#controller.abort(this.reason());
  }

  /** The push ended: no timer left behind. */
  dispose(): void {
    clearTimeout(this.#timer);
  }
}
