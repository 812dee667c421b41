import { defineCommand } from 'citty';
import { commands } from './commands/index.js';

export const main = defineCommand({
  meta: {
    name: 'xfer',
    version: '0.0.0',
    description: 'Does math reasoning transfer? Evaluate, train and dissect language models end to end.',
  },
  subCommands: commands,
});
