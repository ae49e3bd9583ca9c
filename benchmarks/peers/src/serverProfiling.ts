import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/** A CPU profile of a stretch of this process's life (node:inspector, sampling every `intervalUs`). */
export async function startProfile(intervalUs = 200): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Messages a parent sends a server child over IPC to profile part of a run. */
export type ProfileRequest = { profile: 'start' } | { profile: 'stop'; file: string };

/** In a server child: answers `{ profile: 'start' }` and `{ profile: 'stop', file }` with `{ profiled: 'started' | file }`. */
export function answerProfileRequests(): void {
  if (!process.send) return;
  let stop: ((file: string) => Promise<void>) | undefined;
  process.on('message', (m: ProfileRequest) => {
    void (async () => {
      if (m.profile === 'start') {
        stop = await startProfile();
        process.send?.({ profiled: 'started' });
      } else if (m.profile === 'stop' && stop) {
        await stop(m.file);
        stop = undefined;
        process.send?.({ profiled: m.file });
      }
    })();
  });
}
