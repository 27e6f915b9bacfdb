import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { config } from './config.js';

const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
await app.listen(config.port, '0.0.0.0');
new Logger('Sample').log(`nestjs-singleflight sample listening on http://localhost:${config.port}`);
