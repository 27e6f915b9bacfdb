import { describe, expect, it } from '@jest/globals';
import { BadRequestException, GoneException } from '@nestjs/common';
import {
  FORMAT,
  decodeResult,
  encodeError,
  encodeSkip,
  encodeValue,
} from '../../../lib/redis/shared/result-codec.js';
import { RemoteFlightError } from '../../../lib/redis/flight/remote-flight.error.js';
import { ValueCodec } from '../../../lib/cache/value-codec.js';

// The result envelope alone: what other pods can and cannot read.

const TOKEN = '6f1c2a8e-0000-4000-8000-000000000001';
const codec = new ValueCodec();

describe('result envelope', () => {
  it('round-trips a value with the token and the format version, keeping its types', () => {
    const input = { n: 1n, at: new Date(0), none: undefined };
    const { envelope, value, shared } = encodeValue(TOKEN, input, 1 << 20, codec);
    expect(shared).toBe(true);
    expect(JSON.parse(envelope)).toEqual({ f: FORMAT, t: TOKEN, ok: 1, v: codec.toData(input) });
    expect(value).toEqual(input);
    expect(value).not.toBe(input);
    expect((value as typeof input).at).toBeInstanceOf(Date);
    expect(decodeResult(envelope, codec)).toEqual({ kind: 'ok', token: TOKEN, value });
  });

  it('skips what the codec cannot encode, and what is over the size limit; the leader keeps its value', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [input, max] of [
      [new (class User {})(), 1 << 20],
      [cyclic, 1 << 20],
      ['é'.repeat(600), 1000], // 600 characters, 1200 UTF-8 bytes
    ] as const) {
      const encoded = encodeValue(TOKEN, input, max, codec);
      expect(encoded).toMatchObject({ shared: false, value: input });
      expect(decodeResult(encoded.envelope, codec)).toEqual({ kind: 'skip', token: TOKEN });
    }
  });

  it("does not share a value whose codec's decode throws; the leader still gets its value", () => {
    class Odd {}
    const failing = () => {
      throw new Error('no');
    };
    const odd = new ValueCodec([{ type: Odd, encode: () => 1, decode: failing }]);
    const input = { odd: new Odd() };
    const encoded = encodeValue(TOKEN, input, 1 << 20, odd);
    expect(encoded).toMatchObject({ shared: false, value: input });
    expect(encoded.unencodable).toMatch(/decode of codec "Odd" threw \(no\)/);
    expect(decodeResult(encoded.envelope, odd)).toEqual({ kind: 'skip', token: TOKEN });
  });

  it("keeps an HttpException's status, response and errorCode", () => {
    // `errorCode` is an option of Nest 12's HttpException only (Nest 11's types refuse it inline).
    const withCode = { cause: undefined, errorCode: 'E_GONE_1' };
    const error = Object.assign(new GoneException('gone', withCode), {
      code: 'E_GONE',
    });
    expect(decodeResult(encodeError(TOKEN, error, 1 << 20), codec)).toEqual({
      kind: 'error',
      token: TOKEN,
      error: {
        name: 'GoneException',
        message: 'gone',
        code: 'E_GONE',
        status: 410,
        httpException: true,
        // As the installed Nest builds it: Nest 12 adds `error` and `errorCode`, Nest 11 neither.
        response: error.getResponse(),
        errorCode: (error as { errorCode?: string }).errorCode,
      },
    });
  });

  it('keeps only name, message and the fields Nest reads on an unknown error of anything else', () => {
    const upstream = Object.assign(new Error('upstream http://10.0.0.7/?token=abc'), {
      status: 404,
      statusCode: 404,
      expose: true,
      body: { secret: 1 },
    });
    // Shaped like an HttpException, but not one: Nest answers it 500, so no response travels.
    const lookalike = Object.assign(new Error('internal'), {
      getStatus: () => 200,
      getResponse: () => ({ forged: true }),
    });
    expect(decodeResult(encodeError(TOKEN, upstream, 1 << 20), codec)).toEqual({
      kind: 'error',
      token: TOKEN,
      error: {
        name: 'Error',
        message: 'upstream http://10.0.0.7/?token=abc',
        status: 404,
        statusCode: 404,
        expose: true,
      },
    });
    expect(decodeResult(encodeError(TOKEN, lookalike, 1 << 20), codec)).toEqual({
      kind: 'error',
      token: TOKEN,
      error: { name: 'Error', message: 'internal' },
    });
  });

  it('does not share an HttpException whose response it cannot encode: others run the work', () => {
    const error = new BadRequestException({ id: 1n });
    expect(decodeResult(encodeError(TOKEN, error, 1 << 20), codec)).toEqual({
      kind: 'skip',
      token: TOKEN,
    });
  });

  it('rebuilds only the named fields: an envelope cannot set key or remote', () => {
    const fields = { name: 'E', message: 'm', status: 404, key: 'other', remote: false };
    const error = new RemoteFlightError('mine', fields as never);
    expect(error).toMatchObject({ key: 'mine', remote: true, status: 404, message: 'm' });
    expect(Object.keys(error)).not.toContain('statusCode');
  });

  it('reads another format version (0.1 wrote 1), text that is not an envelope or a value that does not decode, as skip', () => {
    for (const f of [1, 3]) {
      expect(decodeResult(JSON.stringify({ f, t: TOKEN, ok: 1, v: 1 }), codec)).toEqual({
        kind: 'skip',
        token: TOKEN,
      });
    }
    // A class this instance has no codec for, or a tag that is not one.
    for (const v of [{ $: ['class', 'Money', 1] }, { $: ['Date', 'soon'] }, { $: 1 }]) {
      expect(decodeResult(JSON.stringify({ f: FORMAT, t: TOKEN, ok: 1, v }), codec)).toEqual({
        kind: 'skip',
        token: TOKEN,
      });
    }
    expect(decodeResult('not json', codec)).toEqual({ kind: 'skip', token: undefined });
    expect(decodeResult('[1,2]', codec)).toEqual({ kind: 'skip', token: undefined });
    expect(decodeResult(encodeSkip(TOKEN), codec)).toEqual({ kind: 'skip', token: TOKEN });
  });
});
