import { BadRequestException } from '@nestjs/common';
import { SUPPORTED_REGIONS } from './regions.js';

/** The auth server's refusal: it knows no such region. */
export class UnsupportedRegionError extends Error {
  constructor(readonly region: string) {
    super(`Unsupported region "${region}". Supported regions: ${SUPPORTED_REGIONS.join(', ')}.`);
    this.name = 'UnsupportedRegionError';
  }

  /** The HTTP 400 the callers see; its body names the region and the supported ones. */
  toHttp(): BadRequestException {
    return new BadRequestException(
      {
        statusCode: 400,
        error: 'Bad Request',
        message: this.message,
        region: this.region,
        supported: SUPPORTED_REGIONS,
      },
      { cause: this },
    );
  }
}

/** Turns the backend's refusal into the HTTP error; anything else passes through. */
export function asHttpError(error: unknown): unknown {
  return error instanceof UnsupportedRegionError ? error.toHttp() : error;
}
