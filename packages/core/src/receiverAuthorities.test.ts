import { receiverAuthorities } from './receiverAuthorities';

const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('receiverAuthorities', () => {
  it('answers to the bound address and its loopback names when no publicUrl is set', () => {
    expect(sorted(receiverAuthorities('http://127.0.0.1:8080'))).toEqual(['127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
    expect(sorted(receiverAuthorities('http://0.0.0.0:8080'))).toEqual(['0.0.0.0:8080', '127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
    expect(sorted(receiverAuthorities('http://10.1.2.3:8080'))).toEqual(['10.1.2.3:8080']);
  });

  it('with a publicUrl, keeps the loopback names only for a loopback bind', () => {
    expect(sorted(receiverAuthorities('http://127.0.0.1:7000', 'http://Registry:7000/'))).toEqual([
      '127.0.0.1:7000',
      '[::1]:7000',
      'localhost:7000',
      'registry:7000',
    ]);
    // Loopback names are the same on every host: a wildcard-bound server behind a public name refuses them.
    expect(sorted(receiverAuthorities('http://0.0.0.0:7000', 'http://registry:7000'))).toEqual(['registry:7000']);
    expect(sorted(receiverAuthorities('http://[::]:7000', 'https://registry.example.com'))).toEqual(['registry.example.com']);
    expect(sorted(receiverAuthorities('http://10.1.2.3:7000', 'http://registry:7000'))).toEqual(['registry:7000']);
  });

  it('adds the extra names, lowercased, in every case', () => {
    expect(sorted(receiverAuthorities('http://0.0.0.0:7000', 'http://registry:7000', ['Registry.Internal:7000']))).toEqual([
      'registry.internal:7000',
      'registry:7000',
    ]);
  });

  it('names a port-80 bind without a port, as a Host header does', () => {
    expect(sorted(receiverAuthorities('http://127.0.0.1:80'))).toEqual(['127.0.0.1', '[::1]', 'localhost']);
  });
});
