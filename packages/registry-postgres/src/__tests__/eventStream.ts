import type { RegistryEventType } from '@sov/core';

/** One event as a stream client reads it. */
export interface StreamEvent {
  id: string;
  type: RegistryEventType | 'stream_position';
  data: { peer_id?: string; [key: string]: unknown };
}

/** A registry event stream read over real HTTP, as a browser's EventSource would (Last-Event-ID to resume). */
export class EventStream {
  readonly events: StreamEvent[] = [];
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor() {}

  /** Opens GET /v1/events; resolves once the response has started. */
  static async open(baseUrl: string, lastEventId?: string): Promise<EventStream> {
    const stream = new EventStream();
    const res = await fetch(`${baseUrl}/v1/events`, {
      headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
      signal: stream.abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}: ${await res.text()}`);
    void stream.read(res.body);
    return stream;
  }

  /** Events of a type, in the order they came. */
  of(type: StreamEvent['type']): StreamEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Resolves once `test` holds (checked on each event), rejects after `ms`. */
  async until(test: (events: StreamEvent[]) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test(this.events)) {
      if (this.ended) throw new Error(`event stream ended before the condition held; got ${JSON.stringify(this.events.map((e) => [e.id, e.type]))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${ms} ms; got ${JSON.stringify(this.events.map((e) => [e.id, e.type, e.data.peer_id]))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const id = fields.get('id');
          const type = fields.get('event') as StreamEvent['type'] | undefined;
          if (id === undefined || type === undefined) continue;
          const payload = JSON.parse(fields.get('data') ?? '{}') as { data?: StreamEvent['data'] };
          this.events.push({ id, type, data: payload.data ?? {} });
          this.wake();
        }
      }
    } catch {
      // aborted by close(), or the server went away
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
