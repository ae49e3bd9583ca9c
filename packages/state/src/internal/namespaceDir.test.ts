import { namespaceDir } from './namespaceDir';

describe('namespaceDir', () => {
  it('keeps safe characters and hex-escapes every other byte', () => {
    expect(namespaceDir('agent_1-a')).toBe('agent_1-a');
    expect(namespaceDir('did:key:z6Mk')).toBe('did.3akey.3az6Mk');
    expect(namespaceDir('../..')).toBe('.2e.2e.2f.2e.2e');
    expect(namespaceDir('é')).toBe('.c3.a9');
  });

  it('never maps two namespaces to one name', () => {
    expect(namespaceDir('a.3a')).not.toBe(namespaceDir('a:'));
    expect(namespaceDir('x'.repeat(300))).not.toBe(namespaceDir(`${'x'.repeat(299)}y`));
  });

  it('bounds the length of long namespaces', () => {
    expect(namespaceDir('x'.repeat(1000)).length).toBeLessThanOrEqual(120);
  });
});
