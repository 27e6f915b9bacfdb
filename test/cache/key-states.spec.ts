import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { KeyStates, type KeyState, begin, isCurrent } from '../../lib/cache/key-states.js';

describe('KeyStates', () => {
  it('gives the users of a key one state, and drops it when the last one exits', () => {
    const states = new KeyStates();
    const first = states.enter('k');
    first.generation++;
    const second = states.enter('k');
    expect(second).toBe(first);
    expect(second.users).toBe(2);
    states.exit('k', first);
    expect(states.get('k')).toBe(first);
    states.exit('k', second);
    expect(states.get('k')).toBeUndefined();
    expect(states.size).toBe(0);
    // A key entered again starts afresh: nothing runs for it that could compare generations.
    expect(states.enter('k')).toMatchObject({ generation: 0, users: 1, deleting: undefined });
  });

  it('holds an entry exactly for the keys with a user, whatever the order (property)', () => {
    const step = fc.record({ enter: fc.boolean(), key: fc.constantFrom('a', 'b', 'c') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const states = new KeyStates();
        const held = new Map<string, KeyState[]>(); // key -> the states its users entered with
        for (const { enter, key } of steps) {
          const users = held.get(key) ?? [];
          if (enter) users.push(states.enter(key));
          else if (users.length > 0) states.exit(key, users.pop()!);
          held.set(key, users);
          for (const [k, u] of held) {
            expect(states.get(k)?.users ?? 0).toBe(u.length);
            // Every user of a key holds the one state the key has.
            for (const state of u) expect(state).toBe(states.get(k));
          }
          expect(states.size).toBe([...held.values()].filter((u) => u.length > 0).length);
        }
      }),
      { seed: 1616, numRuns: 500 },
    );
  });

  it("lets a run store its value unless the key was dropped or a later run's value was stored", () => {
    const state = new KeyStates().enter('k');
    const older = begin(state);
    const newer = begin(state);
    expect(newer.run).toBeGreaterThan(older.run);
    expect(isCurrent(state, older) && isCurrent(state, newer)).toBe(true);
    state.stored = newer.run; // the newer run's write started
    expect(isCurrent(state, older)).toBe(false);
    const later = begin(state);
    expect(isCurrent(state, later)).toBe(true);
    state.generation++; // a drop
    expect(isCurrent(state, later)).toBe(false);
    expect(isCurrent(state, begin(state))).toBe(true);
  });
});
