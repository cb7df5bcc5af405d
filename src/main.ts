// main.ts is the process entrypoint (`npm start`): parse flags and the
// config file, start the server (which replays the WAL), and shut down
// gracefully on SIGTERM/SIGINT (refuse new pushes, finish in-flight
// requests, fsync and close the WAL, exit 0).

import { startServer, type RunningServer } from './app.js';
import { loadConfig } from './config/config.js';
import { FLAGS } from './config/flags.js';
import { ConfigError, HelpRequested } from './config/parse.js';
import { formatDuration } from './config/duration.js';
import { log } from './log.js';
import { runTokengen } from './admin/tokengen.js';

function usage(): string {
  let out = 'Usage of mimir:\n';
  for (const f of FLAGS) {
    const def = f.type === 'duration' ? formatDuration(f.default as number) : String(f.default);
    out += `  -${f.name} ${f.type === 'bool' ? '' : f.type}\n    \t${f.help}${def === '' ? '' : ` (default ${JSON.stringify(def)})`}\n`;
  }
  return out;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(usage());
      process.exit(0);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Signals are handled from the start: during start-up (WAL replay) nothing has been
  // acknowledged yet and the WAL is only read, so the process just exits.
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('received signal, shutting down', { signal });
    if (server === undefined) {
      log.info('shutdown complete (during start-up)');
      process.exit(0);
    }
    // close() refuses new pushes (503), waits for in-flight requests, then fsyncs and closes the WAL.
    server.close().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  if (config.target === 'tokengen') {
    await runTokengen(config);
    return;
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  server = await startServer(config);
}

main().catch((err: unknown) => {
  log.error('failed to start', { err });
  process.exit(1);
});
