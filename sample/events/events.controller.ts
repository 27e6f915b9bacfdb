import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { RequestCounter } from '../stats/request-counter.js';
import { Downstream } from './downstream.js';
import { EventBodyPipe } from './event-body.pipe.js';
import type { EventState, KeyEventsView } from './event.interfaces.js';
import { EventStore } from './event-store.js';
import { PushService } from './push.service.js';

@Controller('events')
export class EventsController {
  constructor(
    private readonly store: EventStore,
    private readonly pushes: PushService,
    private readonly downstream: Downstream,
    private readonly requests: RequestCounter,
  ) {}

  /**
   * Records the event and answers 202 at once; the push runs in the background. With `?wait=true`
   * it answers 200 once the push that carries this event (or a newer one) has ended.
   */
  @Post(':key')
  @HttpCode(HttpStatus.ACCEPTED)
  async record(
    @Param('key') key: string,
    @Body(EventBodyPipe) event: EventState,
    @Query('wait') wait: string | undefined,
    @Res({ passthrough: true }) response: { status(code: number): unknown },
  ): Promise<{ key: string; version: number; events: number; pushed?: EventState }> {
    this.requests.count('eventsPosted');
    this.store.record(key, event);
    const push = this.pushes.trigger(key);
    const answer = { key, version: event.version, events: this.store.events(key) };
    if (wait !== 'true') return answer;
    const pushed = await push;
    response.status(HttpStatus.OK);
    return { ...answer, pushed };
  }

  @Get(':key')
  view(@Param('key') key: string): KeyEventsView {
    this.requests.count('eventsRead');
    const latest = this.store.latest(key);
    if (latest === undefined) throw new NotFoundException(`No event was posted for "${key}".`);
    const { received, pushes, overlaps } = this.downstream.view(key);
    return {
      key,
      state: received,
      pushes,
      events: this.store.events(key),
      latestVersion: latest.version,
      pending: this.pushes.isPending(key),
      overlaps,
    };
  }
}
