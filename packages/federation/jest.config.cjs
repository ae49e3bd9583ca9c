module.exports = require('@sov/tooling/jest-preset')(__dirname);
