import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import { ObservableGroup, SingleflightOptionsError } from '../../lib/index.js';

/** A source the test drives by hand, counting the subscriptions made to it. */
function hand() {
  const subject = new Subject<number>();
  let subscriptions = 0;
  const source = () => {
    subscriptions++;
    return subject.asObservable();
  };
  return { subject, source, subscriptions: () => subscriptions };
}

/** Subscribes and keeps every value; `atJoin` is how many arrived during subscribe() itself. */
function collect<T>(observable: { subscribe(next: (value: T) => void): unknown }) {
  const values: T[] = [];
  observable.subscribe((value) => values.push(value));
  return { values, atJoin: values.length };
}

const emit = (subject: Subject<number>, from: number, count: number) => {
  for (let i = from; i < from + count; i++) subject.next(i);
};

/** A first subscriber of `feed`, `count` values (0, 1, ...), then a late subscriber. */
function lateAfter(group: ObservableGroup, count: number) {
  const { subject, source, subscriptions } = hand();
  const first = collect(group.share$('feed', source));
  emit(subject, 0, count);
  const late = collect(group.share$('feed', source));
  return { subject, first, late, subscriptions };
}

describe('ObservableGroup: what a subscriber that joins a running source gets', () => {
  it('by default, of a stream that emitted 300k values: the latest one, then every later one', () => {
    const group = new ObservableGroup();
    const { subject, first, late, subscriptions } = lateAfter(group, 300_000);
    expect(late.atJoin).toBe(1);
    expect(late.values).toEqual([299_999]);
    emit(subject, 300_000, 2);
    expect(late.values).toEqual([299_999, 300_000, 300_001]);
    expect(first.values).toHaveLength(300_002);
    expect(subscriptions()).toBe(1);
    expect(group.stats()).toMatchObject({ flights: 1, joins: 1, size: 1 });
  });

  it('with replay: 100, the 100 newest of 300k, in order', () => {
    const { late } = lateAfter(new ObservableGroup({ replay: 100 }), 300_000);
    expect(late.atJoin).toBe(100);
    expect(late.values).toEqual(Array.from({ length: 100 }, (_, i) => 299_900 + i));
  });

  it('with replay: 0, only the values emitted after it joined', () => {
    const { subject, late } = lateAfter(new ObservableGroup({ replay: 0 }), 3);
    subject.next(3);
    expect(late).toEqual({ values: [3], atJoin: 0 });
  });

  it('with replay: Infinity, every value from the first (a source that completes)', () => {
    const { subject, late } = lateAfter(new ObservableGroup({ replay: Infinity }), 1000);
    subject.next(1000);
    subject.complete();
    expect(late.atJoin).toBe(1000);
    expect(late.values).toEqual(Array.from({ length: 1001 }, (_, i) => i));
  });

  it('a share$ call’s replay overrides the group’s; joiners get the window of the call that started', () => {
    const group = new ObservableGroup({ replay: 0 });
    const { subject, source } = hand();
    collect(group.share$('feed', source, { replay: 2 }));
    emit(subject, 0, 5);
    expect(collect(group.share$('feed', source)).values).toEqual([3, 4]);
    expect(collect(group.share$('feed', source, { replay: Infinity })).values).toEqual([3, 4]);
  });

  it('replays nothing of an earlier flight of the key: a new flight starts empty', () => {
    const group = new ObservableGroup({ replay: Infinity });
    const { subject, source, subscriptions } = hand();
    const first = group.share$('feed', source).subscribe();
    emit(subject, 0, 3);
    first.unsubscribe();
    expect(group.stats().size).toBe(0);
    expect(collect(group.share$('feed', source)).values).toEqual([]);
    expect(subscriptions()).toBe(2);
  });

  it.each([-1, 1.5, Number.NaN, '1', null, true, -Infinity])(
    'refuses replay: %p with a named error, in the constructor and in share$',
    (replay) => {
      const options = { replay } as never;
      expect(() => new ObservableGroup(options)).toThrow(SingleflightOptionsError);
      expect(() => new ObservableGroup(options)).toThrow(
        /Option "replay" in ObservableGroup options must be a whole number of values >= 0, or Infinity/,
      );
      const group = new ObservableGroup();
      expect(() => group.share$('feed', hand().source, options)).toThrow(
        /Option "replay" in share\$\("feed"\) options must be/,
      );
    },
  );

  it('refuses an unknown option with a named error', () => {
    expect(() => new ObservableGroup({ replays: 1 } as never)).toThrow(SingleflightOptionsError);
  });
});
