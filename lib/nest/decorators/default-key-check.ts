import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { refusedType } from '../../core/plain-data.js';
import { SingleflightKeyError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';

/** Route arguments that are the framework's own objects: never data a key can be made of. */
const FRAMEWORK_ARGUMENTS: Partial<Record<number, string>> = {
  [RouteParamtypes.REQUEST]: '@Req()',
  [RouteParamtypes.RESPONSE]: '@Res()',
  [RouteParamtypes.NEXT]: '@Next()',
  [RouteParamtypes.SESSION]: '@Session()',
};

/**
 * Fails when the class is defined if the default key would refuse every call of the method: a
 * parameter whose declared type it refuses (`design:paramtypes`: a class with methods, a Map, a
 * symbol...), or a route handler's request, response, next or session argument. What the metadata
 * cannot show (`Object` or `Function`: an interface, a function type, an `import type`) is checked
 * at each call.
 */
export function assertDefaultKeyFits(
  decorator: string,
  target: object,
  propertyKey: string | symbol,
  where: string,
): void {
  const types = Reflect.getMetadata('design:paramtypes', target, propertyKey) as unknown;
  const refuse = (index: number, why: string) =>
    new SingleflightKeyError(messages.DEFAULT_KEY_REFUSES(decorator, where, index + 1, why));
  const routeArgs = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, propertyKey) as
    Record<string, { index: number }> | undefined;
  for (const [name, { index }] of Object.entries(routeArgs ?? {})) {
    const decoratedWith = FRAMEWORK_ARGUMENTS[Number(name.split(':')[0])];
    if (decoratedWith !== undefined) throw refuse(index, `the ${decoratedWith} object`);
  }
  if (!Array.isArray(types)) return;
  types.forEach((type: unknown, index) => {
    const why = refusedType(type);
    if (why !== undefined) throw refuse(index, why);
  });
}
