#!/usr/bin/env node
import { runCommand, runMain, showUsage } from 'citty';
import { main } from './main.js';
import { reportError } from './report-error.js';

process.on('unhandledRejection', (error) => reportError(error));

const rawArgs = process.argv.slice(2);
if (rawArgs.length === 0 || rawArgs.some((arg) => arg === '--help' || arg === '-h' || arg === '--version')) {
  // citty's own help and version printing.
  await runMain(main, { rawArgs });
} else {
  try {
    await runCommand(main, { rawArgs });
  } catch (error) {
    // Usage mistakes (unknown command, missing argument) get the usage; everything else the error report.
    if (error instanceof Error && error.name === 'CLIError') {
      process.stderr.write(`xfer: ${error.message}\n\n`);
      await showUsage(main);
      process.exit(2);
    }
    reportError(error);
  }
}
