/** Blocks the event loop for `ms` of synchronous work, as a CPU-heavy request handler would. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}
