// pnpm hooks for this workspace.
// beforePacking: what `pnpm pack` / `pnpm publish` put in a package's manifest. Our devDependencies
// name workspace-only packages (@sov/tooling, never published) and build tools a user never installs,
// so they are left out of the published package.json (tests/src/packedInstall.test.ts checks it).
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.devDependencies;
      return pkg;
    },
  },
};
