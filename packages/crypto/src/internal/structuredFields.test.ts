import { parseCanonicalSignatureInput, parseSignatureInput, serializeInnerList } from './structuredFields';

const LIST = '("@method" "@authority" "@path" "@query" "content-digest")';
const signed = (nonce: string) => `sig1=${LIST};created=1764770000;keyid="s_AbCdEfGhIjKlMnOpQrStUvWx";nonce="${nonce}";alg="hmac-sha256"`;

describe('parseCanonicalSignatureInput', () => {
  it('reads what the general parser reads, before and after its component list is known', () => {
    for (const nonce of ['1', '2', '3']) {
      const fast = parseCanonicalSignatureInput(signed(nonce))!;
      const general = parseSignatureInput(signed(nonce))!.get('sig1')!;
      expect(fast.label).toBe('sig1');
      expect([...fast.list.items]).toEqual(general.items);
      expect([...fast.list.params]).toEqual([...general.params]);
      expect(fast.serialized).toBe(serializeInnerList(general));
    }
  });

  it('refuses, once the list is known, a member whose label or parameters are not canonical', () => {
    expect(parseCanonicalSignatureInput(signed('9'))).toBeDefined();
    for (const text of [
      `Sig1=${LIST};created=1`,
      `sig 1=${LIST};created=1`,
      `sig1=${LIST};created=01`,
      `sig1=${LIST};created=1;`,
      `sig1=${LIST};keyid=token`,
      `sig1=${LIST};keyid="a\\"b"`,
      `sig1=${LIST} ;created=1`,
      `sig1=${LIST};created=1, sig2=()`,
      `sig1=${LIST};created=-0`,
      `sig1=${LIST};created=-`,
      `sig1=${LIST};created=1234567890123456`,
      `sig1=${LIST};created=1x`,
      `sig1=${LIST};created=`,
      `sig1=${LIST};created`,
      `sig1=${LIST};=1`,
      `sig1=${LIST};Created=1`,
      `sig1=${LIST};keyid="a;b"`,
      `sig1=${LIST};keyid="a`,
      `sig1=${LIST};keyid="\u00e9"`,
      `sig1=${LIST};alg=?1`,
      `=${LIST};created=1`,
      `sig1=${LIST};created=01;keyid="k";nonce="n";alg="ed25519"`,
      `sig1=${LIST};created=1;keyid="k\\";nonce="n";alg="ed25519"`,
      `sig1=${LIST};created=1;keyid="k";nonce="n;";alg="ed25519"`,
      `sig1=${LIST};created=1;keyid="k";nonce="n";alg="ed25519";`,
    ]) {
      expect(parseCanonicalSignatureInput(text)).toBeUndefined();
    }
  });

  it('reads integers and strings of the canonical parameters as the general parser does', () => {
    expect(parseCanonicalSignatureInput(signed('8'))).toBeDefined();
    for (const params of [
      ';created=0',
      ';n=-5;m=123456789012345',
      ';keyid="";a.b-c_d*="x y"',
      '',
      // Our signers' layout, then the same with one more parameter, and in another order.
      ';created=1;keyid="did:key:z6Mk";nonce="abc";alg="ed25519"',
      ';created=1;keyid="did:key:z6Mk";nonce="abc";alg="ed25519";expires=2',
      ';keyid="did:key:z6Mk";created=1;nonce="abc";alg="ed25519"',
    ]) {
      const text = `sig1=${LIST}${params}`;
      expect([...parseCanonicalSignatureInput(text)!.list.params]).toEqual([...parseSignatureInput(text)!.get('sig1')!.params]);
    }
  });

  it('finds the end of a list whose items hold a parenthesis', () => {
    const text = 'sig1=("@method" "x-sov-a)b");created=1';
    const parsed = parseCanonicalSignatureInput(text)!;
    expect([...parsed.list.items]).toEqual(['@method', 'x-sov-a)b']);
    expect(parseCanonicalSignatureInput('sig1=("@method" "x-sov-a)b");created=2')!.list.params.get('created')).toBe(2);
    // The text up to the first ')' is not a list seen before: the full check decides.
    expect(parseCanonicalSignatureInput('sig1=("@method" "x-sov-a)b" junk);created=2')).toBeUndefined();
  });

  it('hands out items that cannot be changed', () => {
    const items = parseCanonicalSignatureInput(signed('4'))!.list.items;
    expect(Object.isFrozen(items)).toBe(true);
  });
});
