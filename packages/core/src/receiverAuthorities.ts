const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '[::]']);

/**
 * The authorities (host:port, lowercased) a server answers to: its public
 * URL's, the address it is bound to, and for a loopback or wildcard bind the
 * loopback names of the same port; plus any extra names the operator lists.
 * A verifier refuses a request signed for any other authority (WRONG_RECEIVER).
 *
 * @example
 * receiverAuthorities('http://0.0.0.0:8080', 'https://agent.example.com'); // agent.example.com, 0.0.0.0:8080, 127.0.0.1:8080, localhost:8080, [::1]:8080
 */
export function receiverAuthorities(boundUrl: string, publicUrl?: string, extra: readonly string[] = []): ReadonlySet<string> {
  const out = new Set<string>();
  if (publicUrl) out.add(new URL(publicUrl).host.toLowerCase());
  const bound = new URL(boundUrl);
  out.add(bound.host.toLowerCase());
  if (LOOPBACK.has(bound.hostname.toLowerCase())) {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) out.add(`${host}:${bound.port}`);
  }
  for (const a of extra) out.add(a.toLowerCase());
  return out;
}
