import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SovError } from '@sov/core';
import type { Identity as IdentityClass } from '@sov/crypto';
import type { CommandContext } from '../commandContext';

/** The keystore keygen writes when neither --key nor SOV_KEY_FILE names one. */
export const DEFAULT_KEY_FILE = 'sov-key.json';

/** `sov keygen`: a new identity in a keystore file (mode 0600, encrypted with SOV_KEY_PASSPHRASE when set). */
export function keygenCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('keygen')
    .description('create an agent identity (Ed25519 + X25519) in a keystore file, mode 0600')
    .option('--key <file>', `where to write it (env SOV_KEY_FILE, default ./${DEFAULT_KEY_FILE})`)
    .option('--force', 'replace an existing keystore (its identity is lost)')
    .addHelpText('after', '\nThe keystore is encrypted (scrypt + AES-256-GCM) with SOV_KEY_PASSPHRASE when that is set.')
    .action(async (opts: { key?: string; force?: boolean }, cmd: Command) => {
      // Loaded here, not at start: the commands that need no key start faster.
      const { Identity } = await import('@sov/crypto');
      const ctx = context(cmd);
      const path = resolve(opts.key ?? ctx.env.SOV_KEY_FILE ?? DEFAULT_KEY_FILE);
      const passphrase = ctx.env.SOV_KEY_PASSPHRASE || undefined;
      const options = passphrase ? { passphrase } : {};
      let identity: IdentityClass;
      if (opts.force) {
        identity = Identity.generate();
        await identity.save(path, options);
      } else {
        const exists = await access(path).then(
          () => true,
          () => false,
        );
        if (exists) throw new SovError('CONFLICT', `A keystore already exists at ${path}; pass --force to replace it`);
        identity = await Identity.loadOrCreate(path, options);
      }
      if (ctx.out.json) ctx.out.data({ id: identity.id, path, encrypted: passphrase !== undefined });
      else ctx.out.line(`${identity.id}\n${ctx.out.colors.dim(`written to ${path} (mode 0600, ${passphrase ? 'encrypted with SOV_KEY_PASSPHRASE' : 'not encrypted'})`)}`);
    });
}
