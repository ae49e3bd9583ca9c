"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_child_process_1 = require("node:child_process");
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var root = (0, node_path_1.join)(__dirname, '..', '..');
var published = (0, node_fs_1.readdirSync)((0, node_path_1.join)(root, 'packages'))
    .map(function (dir) { return JSON.parse((0, node_fs_1.readFileSync)((0, node_path_1.join)(root, 'packages', dir, 'package.json'), 'utf8')); })
    .filter(function (p) { return !p.private; })
    .map(function (p) { return p.name; });
function exportsVia(mode, name) {
    var script = mode === 'import'
        ? "import(".concat(JSON.stringify(name), ").then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort())))")
        : "console.log(JSON.stringify(Object.keys(require(".concat(JSON.stringify(name), ")).sort()))");
    // Resolve from this workspace, which depends on every published package, as a user's project would.
    var out = (0, node_child_process_1.execFileSync)(process.execPath, ['-e', script], { cwd: (0, node_path_1.join)(root, 'tests'), encoding: 'utf8' });
    return JSON.parse(out);
}
describe('the built packages', function () {
    it('lists every published package', function () {
        expect(published).toEqual(expect.arrayContaining(['@sov/core', '@sov/registry']));
    });
    it.each(published)('%s loads through import (ESM) and require (CJS) with the same named exports', function (name) {
        var esm = exportsVia('import', name);
        var cjs = exportsVia('require', name);
        expect(esm.length).toBeGreaterThan(0);
        expect(cjs).toEqual(esm);
    });
    it('a SovError from the CJS build is recognised by the ESM build guard', function () {
        var script = "\n      const cjs = require('@sov/core');\n      import('@sov/core').then((esm) => {\n        const e = new cjs.TimeoutError('call', 5);\n        console.log(JSON.stringify([esm.isSovError(e), esm.isTimeoutError(e), e instanceof esm.SovError]));\n      });";
        var out = (0, node_child_process_1.execFileSync)(process.execPath, ['-e', script], { cwd: (0, node_path_1.join)(root, 'tests'), encoding: 'utf8' });
        expect(JSON.parse(out)).toEqual([true, true, false]);
    });
});
