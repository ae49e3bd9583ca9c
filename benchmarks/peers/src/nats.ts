import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** The NATS server both Moleculer brokers talk through. */
export const NATS_URL = 'nats://127.0.0.1:4222';

/**
 * Resolves when a NATS server answers on NATS_URL with its INFO line; rejects
 * with what was wrong otherwise (the bench fails loudly without NATS rather
 * than leave Moleculer reconnecting for ever).
 */
export function ensureNats(url = NATS_URL, timeoutMs = 3000): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`No NATS server at ${url} (${why}): the peer benchmark needs one for Moleculer's transporter`));
    };
    const timer = setTimeout(() => fail(`no INFO within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    socket.once('data', (d: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      if (d.toString('latin1').startsWith('INFO ')) resolve();
      else fail(`it answered ${JSON.stringify(d.toString('latin1').slice(0, 40))}, not INFO`);
    });
  });
}

/** The pid of the local nats-server process serving NATS_URL's port, if one can be seen in /proc. */
export function natsServerPid(): number | undefined {
  const port = new URL(NATS_URL).port;
  const candidates: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'nats-server') continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = args.findIndex((a) => a === '-p' || a === '--port');
      if (i === -1 ? port === '4222' : args[i + 1] === port) candidates.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return candidates.length === 1 ? candidates[0] : undefined;
}
