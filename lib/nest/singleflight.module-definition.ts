import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<SingleflightModuleOptions>({ moduleName: 'Singleflight' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createSingleflightOptions')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();
