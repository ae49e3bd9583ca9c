import { crc32, crc32Portable } from './crc32';

describe('crc32', () => {
  it('matches the CRC-32/ISO-HDLC check value, natively and portably', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32Portable('123456789')).toBe(0xcbf43926);
  });

  it('agrees between the native and the portable version on UTF-8 text and bytes', () => {
    for (const text of ['', 'a', '日本語 🎉 \u2028', JSON.stringify({ x: [1, 'two', null] })]) {
      expect(crc32Portable(text)).toBe(crc32(text));
      expect(crc32Portable(Buffer.from(text))).toBe(crc32(text));
    }
  });
});
