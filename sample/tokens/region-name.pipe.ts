import { Injectable, type PipeTransform } from '@nestjs/common';

/**
 * Region names are case-insensitive ("Europe", "europe" and "EUROPE" are one region), so the name
 * is lower-cased before it reaches the service: one flight and one cached token per region.
 */
@Injectable()
export class RegionNamePipe implements PipeTransform<string, string> {
  transform(region: string): string {
    return region.toLowerCase();
  }
}
