/**
 * Whether `run` is `from` or one of the runs `from` was started inside, following `parentOf`: a
 * call made from inside a run (or from a run it started) that would wait for that run waits for
 * itself. Used for a Group's flights and a WriteGroup's runs alike.
 */
export function isWithin<R>(
  from: R | undefined,
  run: R,
  parentOf: (child: R) => R | undefined,
): boolean {
  for (let r = from; r !== undefined; r = parentOf(r)) {
    if (r === run) return true;
  }
  return false;
}
