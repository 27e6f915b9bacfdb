import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A flight (or a MergeWrites run) as the wait-for graph sees it, with detectAsyncReentry: an edge
 * A -> B while a call made from inside A's work waits for B. A call that would add an edge
 * closing a cycle waits, through the others, for itself: it fails instead (see `waitPath`).
 */
export interface WaitNode {
  /** The whole key, to name the chain in the error. */
  readonly key: string;
  /** What the calls from inside its work wait for, each with how many of them wait for it. */
  waitsOn: Map<WaitNode, number> | undefined;
}

/**
 * The node whose work runs now, whichever engine (Group, WriteGroup) runs it: one graph for all,
 * so a cycle that closes through a flight and a MergeWrites run is seen as well as one within
 * an engine. Set only by engines with detectAsyncReentry.
 */
const running = new AsyncLocalStorage<WaitNode>();

/** Runs `fn` as the work of `node`: the calls it makes wait on that node's behalf. */
export function runAs<A extends unknown[], R>(node: WaitNode, fn: (...args: A) => R, args: A): R {
  return running.run(node, fn, ...args);
}

/** The node whose work makes the current call, if any runs with detectAsyncReentry. */
export function waitingNode(): WaitNode | undefined {
  return running.getStore();
}

/** Records `from -> to` until `until` settles: the wait of one call from inside `from`. */
export function waitFor(from: WaitNode, to: WaitNode, until: Promise<unknown>): void {
  const edges = (from.waitsOn ??= new Map());
  edges.set(to, (edges.get(to) ?? 0) + 1);
  const end = () => {
    const left = edges.get(to)! - 1;
    if (left === 0) edges.delete(to);
    else edges.set(to, left);
  };
  until.then(end, end);
}

/**
 * The keys along a path of waits from `from` to `to`, both included; undefined if there is none.
 * Each node is visited once, so the walk costs at most the edges reachable from `from`.
 */
function waitPath(from: WaitNode, to: WaitNode, seen = new Set<WaitNode>()): string[] | undefined {
  if (from === to) return [from.key];
  seen.add(from);
  for (const node of from.waitsOn?.keys() ?? []) {
    if (seen.has(node)) continue;
    const rest = waitPath(node, to, seen);
    if (rest !== undefined) return [from.key, ...rest];
  }
  return undefined;
}

/**
 * The keys of the wait-for cycle the current work would close by waiting for `node`: that work's
 * key first and last (a pending MergeWrites run and the run it waits for are one key); undefined
 * when `node` does not wait for it, or no work with detectAsyncReentry makes the call.
 */
export function cycleTo(node: WaitNode): string[] | undefined {
  const from = running.getStore();
  const path = from === undefined ? undefined : waitPath(node, from);
  if (path === undefined) return undefined;
  return [from!.key, ...path].filter((key, i, keys) => key !== keys[i - 1]);
}
