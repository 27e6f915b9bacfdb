/**
 * Driver loops of their own. A loop that calls `dedupe.do` for every contender learns every
 * contender's `do` at that call site, and each then runs slower than it would in a program of its
 * own (and slower than the ones the loop met first). `ownCopy(driver)` compiles the driver's source
 * again, so each contender's copy has call sites that only ever see that contender.
 *
 * A driver must use only its parameters and globals: the copy is compiled outside its module, so
 * a module constant or an import it refers to would be a ReferenceError there (the first run says
 * so at once).
 */
export function ownCopy<F extends (...args: never[]) => unknown>(driver: F): F {
  const source = driver.toString();
  if (!/^(async\s+)?(function\b|\()/.test(source)) {
    throw new Error(
      `bench: ${driver.name || 'a driver'} must be a function declaration or an arrow`,
    );
  }
  return new Function(`return (${source});`)() as F;
}
