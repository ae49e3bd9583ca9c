/**
 * The shortest path from `start` to `target` over at most `maxHops` edges,
 * breadth first, each level's neighbours asked in parallel (a registry's
 * neighbours cost a fetch of its signed peer list). Every id is visited once,
 * so no path has a loop; `maxNodes` bounds how much of a large federation a
 * query explores. Undefined when there is none within the bounds.
 */
export async function shortestPath(
  start: string,
  target: string | ((id: string) => boolean),
  maxHops: number,
  neighbours: (id: string) => Promise<readonly string[]>,
  maxNodes = 512,
): Promise<string[] | undefined> {
  const isTarget = typeof target === 'string' ? (id: string) => id === target : target;
  if (isTarget(start)) return [start];
  const previous = new Map<string, string | null>([[start, null]]);
  let frontier = [start];
  for (let depth = 0; depth < maxHops && frontier.length > 0; depth++) {
    const next: string[] = [];
    const lists = await Promise.all(frontier.map((id) => neighbours(id)));
    for (let i = 0; i < frontier.length; i++) {
      for (const n of lists[i]!) {
        if (previous.has(n)) continue;
        previous.set(n, frontier[i]!);
        if (isTarget(n)) {
          const path = [n];
          for (let at = previous.get(n); at; at = previous.get(at)) path.unshift(at);
          return path;
        }
        if (previous.size >= maxNodes) return undefined;
        next.push(n);
      }
    }
    frontier = next;
  }
  return undefined;
}
