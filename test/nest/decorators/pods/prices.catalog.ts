import { Injectable } from '@nestjs/common';
import { SingleFlight } from '../../../../lib/index.js';

// Same class name as products.catalog.ts, as two feature folders of one app may have.
@Injectable()
export class Catalog {
  @SingleFlight()
  async get(id: string): Promise<string> {
    return `price:${id}`;
  }
}
