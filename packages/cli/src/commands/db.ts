import { resolve } from 'node:path';
import { defineCommand } from 'citty';

const dbArg = {
  db: {
    type: 'string',
    description: 'experiment store file (default: $XFER_DB or ./xfer.db)',
    valueHint: 'path',
  },
} as const;

async function storePath(explicit: string | undefined): Promise<string> {
  const { defaultStorePath } = await import('@xfer/store');
  return resolve(explicit ?? defaultStorePath());
}

const migrate = defineCommand({
  meta: { name: 'migrate', description: 'Create the store if needed and apply pending migrations' },
  args: dbArg,
  async run({ args }) {
    const { openStore } = await import('@xfer/store');
    const path = await storePath(args.db);
    const store = openStore(path);
    const { applied, current, available } = store.migrations;
    store.close();
    process.stdout.write(
      `migrated path=${path} applied=${applied} current=${current} available=${available}\n`,
    );
  },
});

const info = defineCommand({
  meta: { name: 'info', description: 'Row counts per table, file size and migration state of the store' },
  args: dbArg,
  async run({ args }) {
    const { openStore } = await import('@xfer/store');
    const path = await storePath(args.db);
    const store = openStore(path, { migrate: false, mustExist: true });
    try {
      const summary = store.info();
      const width = Math.max(...Object.keys(summary.tables).map((name) => name.length));
      const lines = [
        `path=${summary.path}`,
        `bytes=${summary.bytes}`,
        `migrations=${summary.migrations.current}/${summary.migrations.available}${
          summary.migrations.current < summary.migrations.available ? ' (run `xfer db migrate`)' : ''
        }`,
        ...Object.entries(summary.tables).map(([name, count]) => `${name.padEnd(width)} ${count}`),
        `tables=${Object.keys(summary.tables).length} rows=${Object.values(summary.tables).reduce((sum, count) => sum + count, 0)} bytes=${summary.bytes}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      store.close();
    }
  },
});

export default defineCommand({
  meta: { name: 'db', description: 'Manage the experiment store (xfer.db)' },
  subCommands: { migrate, info },
});
