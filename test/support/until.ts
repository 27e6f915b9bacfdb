/** Resolves once `condition()` holds, checking on every macrotask turn; fails after `ms`. */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Runs fast-check's scheduler until nothing is left, letting a macrotask pass between rounds:
 * `waitAll` alone stops while work is still queued as promise reactions.
 */
export async function drain(scheduler: {
  waitAll(): Promise<void>;
  count(): number;
}): Promise<void> {
  do {
    await scheduler.waitAll();
    await new Promise((resolve) => setImmediate(resolve));
  } while (scheduler.count() > 0);
}
