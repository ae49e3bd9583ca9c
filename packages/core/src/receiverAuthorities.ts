const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const WILDCARD = new Set(['0.0.0.0', '[::]']);

/**
 * The authorities (host:port, lowercased) a server answers to, for its
 * verifier's ReceiverBinding. A request signed by authority for any other is
 * refused (WRONG_RECEIVER).
 *
 * - Without a publicUrl: the bound address, and for a loopback or wildcard
 *   bind the loopback names of the same port (127.0.0.1, localhost, [::1]).
 * - With a publicUrl: its authority. The bound forms are kept only for a
 *   loopback bind (only this host reaches it, so its loopback names are its
 *   own). A wildcard or network bind answers to the publicUrl alone: loopback
 *   and wildcard names are the same on every host, so a request signed for
 *   `127.0.0.1:7000` could otherwise be spent at every server on port 7000.
 * - Plus `extra`, the names the operator lists (acceptAuthorities), always.
 *
 * @example
 * receiverAuthorities('http://0.0.0.0:8080'); // 0.0.0.0:8080, 127.0.0.1:8080, localhost:8080, [::1]:8080
 * receiverAuthorities('http://0.0.0.0:8080', 'https://agent.example.com'); // agent.example.com
 * receiverAuthorities('http://127.0.0.1:8080', 'https://agent.example.com'); // agent.example.com, 127.0.0.1:8080, localhost:8080, [::1]:8080
 */
export function receiverAuthorities(boundUrl: string, publicUrl?: string, extra: readonly string[] = []): ReadonlySet<string> {
  const out = new Set<string>();
  if (publicUrl) out.add(new URL(publicUrl).host.toLowerCase());
  const bound = new URL(boundUrl);
  const hostname = bound.hostname.toLowerCase();
  const loopback = LOOPBACK.has(hostname);
  if (!publicUrl || loopback) {
    out.add(bound.host.toLowerCase());
    if (loopback || WILDCARD.has(hostname)) {
      for (const host of LOOPBACK) out.add(bound.port ? `${host}:${bound.port}` : host);
    }
  }
  for (const a of extra) out.add(a.toLowerCase());
  return out;
}
