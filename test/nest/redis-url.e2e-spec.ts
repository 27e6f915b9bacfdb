import { describeRedisUrl } from '../support/redis-url-suite.js';

// node-redis is installed: the module makes its client with it.
describeRedisUrl('node-redis');
