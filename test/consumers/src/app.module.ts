import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { SingleflightModule } from 'nestjs-singleflight';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

@Module({
  // Not global, as `CacheModule.register()` is by default: the module finds it all the same.
  imports: [CacheModule.register(), SingleflightModule.forRoot()],
  controllers: [TokenController],
  providers: [TokenService],
})
export class AppModule {}
