import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { EventState } from './event.interfaces.js';

/** Checks the body of POST /events/:key: `{ version: number, data?: any }`. */
export class EventBodyPipe implements PipeTransform<unknown, EventState> {
  transform(body: unknown): EventState {
    const version = (body as { version?: unknown } | null)?.version;
    if (typeof version !== 'number' || !Number.isFinite(version)) {
      throw new BadRequestException(
        'The body must be JSON { "version": <number>, "data": <any> }.',
      );
    }
    return { version, data: (body as { data?: unknown }).data ?? null };
  }
}
