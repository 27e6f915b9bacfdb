/** Why a follower stopped sleeping: the wake-up message, its own timer, or Redis is gone. */
export type Wake = 'message' | 'timer' | 'lost';

/** A follower waiting for the wake-up message `K\ntoken` of the flight it follows. */
export class Waiter {
  #woken: Wake | undefined = undefined;
  #resolve: ((why: Wake) => void) | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  wake(why: Wake): void {
    if (this.#woken !== undefined) return;
    this.#woken = why;
    clearTimeout(this.#timer);
    this.#resolve?.(why);
  }

  /** Resolves on a wake (at once if one came already, e.g. while the follower read `res`) or after `ms`. */
  sleep(ms: number): Promise<Wake> {
    if (this.#woken !== undefined) return Promise.resolve(this.#woken);
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(
        () => {
          this.#resolve = undefined;
          resolve('timer');
        },
        Math.max(0, ms),
      );
    });
  }
}

/**
 * The followers of one instance by the wake-up message they wait for (`K\ntoken`). A topic is
 * present only while it has a waiter, so the map holds no more than the flights being followed.
 */
export class Waiters {
  readonly #byTopic = new Map<string, Set<Waiter>>();

  add(topic: string): Waiter {
    const waiter = new Waiter();
    let set = this.#byTopic.get(topic);
    if (set === undefined) this.#byTopic.set(topic, (set = new Set()));
    set.add(waiter);
    return waiter;
  }

  remove(topic: string, waiter: Waiter): void {
    const set = this.#byTopic.get(topic);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.#byTopic.delete(topic);
  }

  /** A wake-up message arrived: its followers read the result now. */
  message(topic: string): void {
    const set = this.#byTopic.get(topic);
    if (set !== undefined) for (const waiter of set) waiter.wake('message');
  }

  /** Redis failed or the flight closed: every follower stops waiting and runs its work. */
  wakeAll(): void {
    for (const set of this.#byTopic.values()) for (const waiter of set) waiter.wake('lost');
  }
}
