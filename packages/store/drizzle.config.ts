import { defineConfig } from 'drizzle-kit';

/** `pnpm db:generate` writes a new migration into `drizzle/` from `src/schema.ts`; commit it. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
});
