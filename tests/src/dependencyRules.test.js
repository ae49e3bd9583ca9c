"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
/**
 * DESIGN.md's dependency rules: core depends on no sibling; every other
 * package depends on core and on a sibling only where the design allows;
 * imports go through `@sov/<name>`, never into another package's src/.
 */
var ALLOWED = {
    core: [],
    crypto: ['core'],
    state: ['core'],
    resilience: ['core'],
    services: ['core'],
    events: ['core'],
    federation: ['core'],
    registry: ['core', 'state', 'crypto'],
    testing: ['core', 'crypto', 'state', 'resilience', 'services', 'events', 'federation', 'registry'],
};
var root = (0, node_path_1.join)(__dirname, '..', '..');
var packagesDir = (0, node_path_1.join)(root, 'packages');
var packages = (0, node_fs_1.readdirSync)(packagesDir).filter(function (d) { return (0, node_fs_1.statSync)((0, node_path_1.join)(packagesDir, d)).isDirectory(); });
function sourceFiles(dir) {
    return (0, node_fs_1.readdirSync)(dir).flatMap(function (entry) {
        var p = (0, node_path_1.join)(dir, entry);
        if ((0, node_fs_1.statSync)(p).isDirectory())
            return sourceFiles(p);
        return /\.tsx?$/.test(entry) ? [p] : [];
    });
}
var importPattern = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g;
function importsOf(file) {
    var text = (0, node_fs_1.readFileSync)(file, 'utf8');
    return __spreadArray([], text.matchAll(importPattern), true).map(function (m) { return m[1]; });
}
describe('dependency rules', function () {
    it('knows every package', function () {
        for (var _i = 0, packages_1 = packages; _i < packages_1.length; _i++) {
            var p = packages_1[_i];
            expect(Object.keys(ALLOWED)).toContain(p);
        }
    });
    it.each(packages)('packages/%s declares only the siblings it may depend on', function (pkg) {
        var manifest = JSON.parse((0, node_fs_1.readFileSync)((0, node_path_1.join)(packagesDir, pkg, 'package.json'), 'utf8'));
        var siblings = Object.keys(__assign(__assign({}, manifest.dependencies), manifest.peerDependencies))
            .filter(function (d) { return d.startsWith('@sov/'); })
            .map(function (d) { return d.slice(5); });
        for (var _i = 0, siblings_1 = siblings; _i < siblings_1.length; _i++) {
            var s = siblings_1[_i];
            expect({ pkg: pkg, dependsOn: s, allowed: ALLOWED[pkg].includes(s) }).toEqual({ pkg: pkg, dependsOn: s, allowed: true });
        }
        if (pkg !== 'core')
            expect(siblings).toContain('core');
    });
    it.each(packages)('packages/%s imports siblings only through @sov/<name> and only the allowed ones', function (pkg) {
        var srcDir = (0, node_path_1.join)(packagesDir, pkg, 'src');
        var bad = [];
        for (var _i = 0, _a = sourceFiles(srcDir); _i < _a.length; _i++) {
            var file = _a[_i];
            var isTest = /\.test\.ts$|__tests__/.test(file);
            for (var _b = 0, _c = importsOf(file); _b < _c.length; _b++) {
                var spec = _c[_b];
                if (spec.startsWith('.')) {
                    var target = (0, node_path_1.resolve)((0, node_path_1.dirname)(file), spec);
                    var rel = (0, node_path_1.relative)((0, node_path_1.join)(packagesDir, pkg), target);
                    if (rel.startsWith('..'))
                        bad.push("".concat((0, node_path_1.relative)(root, file), " reaches outside its package: ").concat(spec));
                }
                else if (spec.startsWith('@sov/')) {
                    var _d = spec.split('/'), name_1 = _d[1], deep = _d.slice(2);
                    if (deep.length)
                        bad.push("".concat((0, node_path_1.relative)(root, file), " imports a deep path: ").concat(spec));
                    if (!isTest && name_1 !== pkg && name_1 !== 'tooling' && !ALLOWED[pkg].includes(name_1)) {
                        bad.push("".concat((0, node_path_1.relative)(root, file), " imports @sov/").concat(name_1, ", which packages/").concat(pkg, " may not depend on"));
                    }
                }
            }
        }
        expect(bad).toEqual([]);
    });
    it('apps import packages only through their entry points', function () {
        var appsDir = (0, node_path_1.join)(root, 'apps');
        var bad = [];
        for (var _i = 0, _a = (0, node_fs_1.readdirSync)(appsDir); _i < _a.length; _i++) {
            var app = _a[_i];
            for (var _b = 0, _c = sourceFiles((0, node_path_1.join)(appsDir, app, 'src')); _b < _c.length; _b++) {
                var file = _c[_b];
                for (var _d = 0, _e = importsOf(file); _d < _e.length; _d++) {
                    var spec = _e[_d];
                    if (/packages\/|\/src\//.test(spec) && !spec.startsWith('./'))
                        bad.push("".concat((0, node_path_1.relative)(root, file), ": ").concat(spec));
                }
            }
        }
        expect(bad).toEqual([]);
    });
    it('the checker catches a forbidden import (self-test)', function () {
        var spec = '../../registry/src/registryServer';
        var file = (0, node_path_1.join)(packagesDir, 'core', 'src', 'agent.ts');
        expect((0, node_path_1.relative)((0, node_path_1.join)(packagesDir, 'core'), (0, node_path_1.resolve)((0, node_path_1.dirname)(file), spec)).startsWith('..')).toBe(true);
        expect(ALLOWED.core).not.toContain('registry');
    });
});
