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
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
var node_http_1 = require("node:http");
var core_1 = require("@sov/core");
var registry_1 = require("@sov/registry");
var silent = (0, core_1.createLogger)({ silent: true });
describe('HttpRegistryClient against the real registry', function () {
    var registry;
    var client;
    beforeAll(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, registry_1.RegistryServer.start({ logger: silent, insecure: true })];
                case 1:
                    registry = _a.sent();
                    client = new core_1.HttpRegistryClient({ baseUrl: registry.url, timeoutMs: 2000 });
                    return [2 /*return*/];
            }
        });
    }); });
    afterAll(function () { return registry.close(); });
    var reg = function (id, capabilities) { return ({ id: id, name: id, endpoint: "http://127.0.0.1:1/".concat(id), capabilities: capabilities, ttl: 30 }); };
    it('registers, heartbeats, gets, searches and deregisters', function () { return __awaiter(void 0, void 0, void 0, function () {
        var _a, agent, lease, renewed, _b, page, rest, _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0: return [4 /*yield*/, client.register(reg('alpha', ['math', 'stats']))];
                case 1:
                    _a = _d.sent(), agent = _a.agent, lease = _a.lease;
                    expect(agent).toMatchObject({ id: 'alpha', capabilities: ['math', 'stats'], reputation: 0.5 });
                    expect(lease.ttl).toBe(30);
                    return [4 /*yield*/, client.heartbeat('alpha')];
                case 2:
                    renewed = _d.sent();
                    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(Date.parse(lease.expiresAt));
                    _b = expect;
                    return [4 /*yield*/, client.get('alpha')];
                case 3:
                    _b.apply(void 0, [(_d.sent()).endpoint]).toBe('http://127.0.0.1:1/alpha');
                    return [4 /*yield*/, client.register(reg('beta', ['math']))];
                case 4:
                    _d.sent();
                    return [4 /*yield*/, client.search({ capabilities: ['math'], limit: 1 })];
                case 5:
                    page = _d.sent();
                    expect(page.total).toBe(2);
                    expect(page.agents).toHaveLength(1);
                    return [4 /*yield*/, client.search({ capabilities: ['math'], limit: 1, cursor: page.nextCursor })];
                case 6:
                    rest = _d.sent();
                    expect(rest.nextCursor).toBeNull();
                    expect([page.agents[0].id, rest.agents[0].id].sort()).toEqual(['alpha', 'beta']);
                    return [4 /*yield*/, client.deregister('alpha')];
                case 7:
                    _d.sent();
                    return [4 /*yield*/, client.deregister('beta')];
                case 8:
                    _d.sent();
                    _c = expect;
                    return [4 /*yield*/, client.search({ capabilities: ['math'] })];
                case 9:
                    _c.apply(void 0, [(_d.sent()).total]).toBe(0);
                    return [2 /*return*/];
            }
        });
    }); });
    it('throws the registry code for an unknown agent and for bad input', function () { return __awaiter(void 0, void 0, void 0, function () {
        var missing, bad;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, client.get('nobody').catch(function (e) { return e; })];
                case 1:
                    missing = _a.sent();
                    expect((0, core_1.isRemoteError)(missing)).toBe(true);
                    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
                    return [4 /*yield*/, expect(client.heartbeat('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' })];
                case 2:
                    _a.sent();
                    return [4 /*yield*/, client.register(__assign(__assign({}, reg('x', [])), { endpoint: 'not a url' })).catch(function (e) { return e; })];
                case 3:
                    bad = _a.sent();
                    expect(bad).toMatchObject({ code: 'INVALID_INPUT' });
                    expect(bad.message).toContain('/endpoint');
                    return [4 /*yield*/, expect(client.search({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })];
                case 4:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    it('never hangs: a registry that does not answer times out', function () { return __awaiter(void 0, void 0, void 0, function () {
        var hanging, port, slow, t0, error;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    hanging = (0, node_http_1.createServer)(function () { return undefined; });
                    return [4 /*yield*/, new Promise(function (r) { return hanging.listen(0, '127.0.0.1', r); })];
                case 1:
                    _a.sent();
                    port = hanging.address().port;
                    slow = new core_1.HttpRegistryClient({ baseUrl: "http://127.0.0.1:".concat(port), timeoutMs: 200 });
                    t0 = Date.now();
                    return [4 /*yield*/, slow.search({}).catch(function (e) { return e; })];
                case 2:
                    error = _a.sent();
                    expect((0, core_1.isTimeoutError)(error)).toBe(true);
                    expect(Date.now() - t0).toBeLessThan(2000);
                    hanging.closeAllConnections();
                    return [4 /*yield*/, new Promise(function (r) { return hanging.close(r); })];
                case 3:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    it('reports a registry that is not there as a network error naming the URL', function () { return __awaiter(void 0, void 0, void 0, function () {
        var probe, port, gone, error;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    probe = (0, node_http_1.createServer)();
                    return [4 /*yield*/, new Promise(function (r) { return probe.listen(0, '127.0.0.1', r); })];
                case 1:
                    _a.sent();
                    port = probe.address().port;
                    return [4 /*yield*/, new Promise(function (r) { return probe.close(r); })];
                case 2:
                    _a.sent();
                    gone = new core_1.HttpRegistryClient({ baseUrl: "http://127.0.0.1:".concat(port), timeoutMs: 1000 });
                    return [4 /*yield*/, gone.get('a').catch(function (e) { return e; })];
                case 3:
                    error = _a.sent();
                    expect((0, core_1.isNetworkError)(error)).toBe(true);
                    expect(error.message).toContain("GET http://127.0.0.1:".concat(port, "/v1/agents/a"));
                    return [2 /*return*/];
            }
        });
    }); });
});
