import { describe, expect, it } from '@jest/globals';
import {
  FORMAT,
  decodeResult,
  encodeError,
  encodeSkip,
  encodeValue,
} from '../../lib/distributed/result-codec.js';

// The result envelope alone: what other pods can and cannot read.

const TOKEN = '6f1c2a8e-0000-4000-8000-000000000001';

describe('result envelope', () => {
  it('round-trips a value with the token and the format version', () => {
    const { envelope, value, shared } = encodeValue(TOKEN, { n: 1, at: new Date(0) }, 1 << 20);
    expect(shared).toBe(true);
    expect(JSON.parse(envelope)).toEqual({ f: FORMAT, t: TOKEN, ok: 1, v: value });
    expect(value).toEqual({ n: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(decodeResult(envelope)).toEqual({ kind: 'ok', token: TOKEN, value });
  });

  it('skips what JSON cannot encode, and what is over the size limit; the leader keeps its value', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [input, max] of [
      [1n, 1 << 20],
      [cyclic, 1 << 20],
      ['é'.repeat(600), 1000], // 600 characters, 1200 UTF-8 bytes
    ] as const) {
      const encoded = encodeValue(TOKEN, input, max);
      expect(encoded).toMatchObject({ shared: false, value: input });
      expect(decodeResult(encoded.envelope)).toEqual({ kind: 'skip', token: TOKEN });
    }
  });

  it("keeps an error's name, message, code, status and HTTP response", () => {
    const error = Object.assign(new Error('gone'), {
      name: 'GoneException',
      code: 'E_GONE',
      getStatus: () => 410,
      getResponse: () => ({ statusCode: 410, message: 'gone' }),
    });
    expect(decodeResult(encodeError(TOKEN, error, 1 << 20))).toEqual({
      kind: 'error',
      token: TOKEN,
      error: {
        name: 'GoneException',
        message: 'gone',
        code: 'E_GONE',
        status: 410,
        response: { statusCode: 410, message: 'gone' },
      },
    });
  });

  it('drops a response it cannot encode, and keeps the rest of the error', () => {
    const error = Object.assign(new Error('bad'), {
      getStatus: () => 400,
      getResponse: () => ({ id: 1n }),
    });
    expect(decodeResult(encodeError(TOKEN, error, 1 << 20))).toEqual({
      kind: 'error',
      token: TOKEN,
      error: { name: 'Error', message: 'bad', status: 400 },
    });
  });

  it('reads another format version, or text that is not an envelope, as skip', () => {
    expect(decodeResult(JSON.stringify({ f: 2, t: TOKEN, ok: 1, v: 1 }))).toEqual({
      kind: 'skip',
      token: TOKEN,
    });
    expect(decodeResult('not json')).toEqual({ kind: 'skip', token: undefined });
    expect(decodeResult('[1,2]')).toEqual({ kind: 'skip', token: undefined });
    expect(decodeResult(encodeSkip(TOKEN))).toEqual({ kind: 'skip', token: TOKEN });
  });
});
