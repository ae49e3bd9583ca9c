// jose (the A2A SDK's dependency) ships ESM only: swc turns it into CommonJS for jest, as the preset does for ky.
module.exports = require('@sov/tooling/jest-preset')(__dirname, { transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm|ky|jose)[/@])'] });
