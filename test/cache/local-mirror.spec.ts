import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { LocalMirror } from '../../lib/cache/local-mirror.js';

/** A one-off lookup of `scope:rest`, as a decorated method does it. */
const hit = (mirror: LocalMirror, scope: string, rest: string) =>
  mirror.scope(scope, () => {})(rest);

afterEach(() => {
  jest.useRealTimers();
});

describe('LocalMirror', () => {
  it('finds a value by its whole key and by the parts around the first colon', async () => {
    const mirror = new LocalMirror();
    mirror.set('Svc.get:user:1', 'one', 1000);
    await expect(mirror.get('Svc.get:user:1')).resolves.toBe('one');
    await expect(hit(mirror, 'Svc.get', 'user:1')).resolves.toBe('one');
    expect(hit(mirror, 'Svc.get', 'user:2')).toBeUndefined();
    expect(hit(mirror, 'Svc', 'get:user:1')).toBeUndefined();
  });

  it('keeps keys with and without a colon apart', async () => {
    const mirror = new LocalMirror();
    mirror.set('a', 'plain', 1000);
    mirror.set('a:', 'empty rest', 1000);
    await expect(mirror.get('a')).resolves.toBe('plain');
    await expect(mirror.get('a:')).resolves.toBe('empty rest');
    await expect(hit(mirror, 'a', '')).resolves.toBe('empty rest');
  });

  it('returns one settled promise for every hit of a value, and calls onHit for each', () => {
    const mirror = new LocalMirror();
    let hits = 0;
    const peek = mirror.scope('k', () => hits++);
    mirror.set('k:1', { big: true }, 1000);
    expect(mirror.get('k:1')).toBe(peek('1'));
    expect(peek('1')).toBe(peek('1'));
    expect(peek('2')).toBeUndefined();
    expect(hits).toBe(3);
  });

  it('stops answering once the clock passes the entry, even when its timer has not fired', () => {
    const mirror = new LocalMirror();
    // The clock is held from before the set: a loaded machine may pass a millisecond in between.
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      mirror.set('k:1', 1, 1000);
      spy.mockReturnValue(now + 1001);
      expect(hit(mirror, 'k', '1')).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect(hit(mirror, 'k', '1')).toBeUndefined(); // removed, not only hidden
  });

  it('removes an entry nobody reads once its time is up', () => {
    jest.useFakeTimers();
    const mirror = new LocalMirror();
    mirror.set('k:1', 1, 1000);
    jest.advanceTimersByTime(999);
    expect(hit(mirror, 'k', '1')).toBeDefined();
    jest.advanceTimersByTime(1);
    expect(jest.getTimerCount()).toBe(0);
    expect(hit(mirror, 'k', '1')).toBeUndefined();
  });

  it('holds a value longer than setTimeout can wait, and forever with Infinity', () => {
    jest.useFakeTimers();
    const mirror = new LocalMirror();
    const month = 30 * 24 * 3600 * 1000; // more than 2^31 - 1 ms
    mirror.set('k:long', 1, month);
    mirror.set('k:forever', 2, Infinity);
    jest.advanceTimersByTime(2 ** 31);
    expect(hit(mirror, 'k', 'long')).toBeDefined();
    jest.advanceTimersByTime(month - 2 ** 31);
    expect(hit(mirror, 'k', 'long')).toBeUndefined();
    expect(hit(mirror, 'k', 'forever')).toBeDefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('replaces a value and its timer; delete and a non-positive time remove it', () => {
    jest.useFakeTimers();
    const mirror = new LocalMirror();
    mirror.set('k:1', 'old', 1000);
    mirror.set('k:1', 'new', 5000);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(2000);
    expect(hit(mirror, 'k', '1')).toBeDefined();
    mirror.delete('k:1');
    expect(hit(mirror, 'k', '1')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
    mirror.set('k:2', 'x', 1000);
    mirror.set('k:2', 'y', 0);
    expect(hit(mirror, 'k', '2')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps no map for keys with ever new parts once their entries are gone (deleted, expired, read late)', () => {
    jest.useFakeTimers();
    const mirror = new LocalMirror();
    for (let i = 0; i < 1000; i++) mirror.set(`user${i}:settings`, i, 1000);
    expect(mirror.scopes).toBe(1000);
    // invalidate() deletes; a timer removes what nobody reads; a read past the expiry removes it.
    for (let i = 0; i < 400; i++) mirror.delete(`user${i}:settings`);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 1001);
    for (let i = 400; i < 700; i++) expect(mirror.get(`user${i}:settings`)).toBeUndefined();
    clock.mockRestore();
    jest.advanceTimersByTime(1000);
    mirror.set('user0:settings', 0, 0);
    expect(mirror.scopes).toBe(0);
    // A decorated method's part keeps its map: its caller looks entries up in that very map.
    const peek = mirror.scope('Svc.get', () => {});
    mirror.set('Svc.get:1', 'one', 1000);
    mirror.delete('Svc.get:1');
    mirror.set('Svc.get:1', 'again', 1000);
    expect(peek('1')).toBeDefined();
    expect(mirror.scopes).toBe(1);
  });
});
