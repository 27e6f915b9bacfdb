// `node --import ./test/support/metadata-loader/register.mjs script.ts` runs TypeScript with
// decorator metadata, which tsx (esbuild) does not emit and Nest's injection needs: for child
// processes that boot a real Nest app.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
