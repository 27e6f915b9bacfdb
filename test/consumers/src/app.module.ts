import { Module } from '@nestjs/common';
import { SingleflightModule } from 'nestjs-singleflight';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [SingleflightModule.forRoot()],
  controllers: [TokenController],
  providers: [TokenService],
})
export class AppModule {}
