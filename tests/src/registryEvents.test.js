"use strict";
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
var node_net_1 = require("node:net");
var core_1 = require("@sov/core");
var registry_1 = require("@sov/registry");
/** A TCP proxy whose connections can be cut mid-stream. */
function cuttableProxy(targetPort) {
    return __awaiter(this, void 0, void 0, function () {
        var sockets, server;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    sockets = new Set();
                    server = (0, node_net_1.createServer)(function (client) {
                        var upstream = new node_net_1.Socket();
                        upstream.connect(targetPort, '127.0.0.1');
                        client.pipe(upstream).pipe(client);
                        var _loop_1 = function (s) {
                            sockets.add(s);
                            s.on('close', function () { return sockets.delete(s); });
                            s.on('error', function () { return undefined; });
                        };
                        for (var _i = 0, _a = [client, upstream]; _i < _a.length; _i++) {
                            var s = _a[_i];
                            _loop_1(s);
                        }
                    });
                    return [4 /*yield*/, new Promise(function (r) { return server.listen(0, '127.0.0.1', r); })];
                case 1:
                    _a.sent();
                    return [2 /*return*/, {
                            url: "http://127.0.0.1:".concat(server.address().port),
                            cut: function () { return sockets.forEach(function (s) { return s.destroy(); }); },
                            close: function () {
                                sockets.forEach(function (s) { return s.destroy(); });
                                return new Promise(function (r) { return server.close(r); });
                            },
                        }];
            }
        });
    });
}
var waitFor = function (cond_1) {
    var args_1 = [];
    for (var _i = 1; _i < arguments.length; _i++) {
        args_1[_i - 1] = arguments[_i];
    }
    return __awaiter(void 0, __spreadArray([cond_1], args_1, true), void 0, function (cond, ms) {
        var end;
        if (ms === void 0) { ms = 5000; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    end = Date.now() + ms;
                    _a.label = 1;
                case 1:
                    if (!!cond()) return [3 /*break*/, 3];
                    if (Date.now() > end)
                        throw new Error('timed out waiting');
                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, 10); })];
                case 2:
                    _a.sent();
                    return [3 /*break*/, 1];
                case 3: return [2 /*return*/];
            }
        });
    });
};
describe('RegistryClient.subscribe', function () {
    it('loses no event when its connection is dropped mid-stream', function () { return __awaiter(void 0, void 0, void 0, function () {
        var registry, proxy, direct, viaProxy, seen, connects, sub, reg, i, i, i, ids;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, registry_1.RegistryServer.start({ insecure: true, logger: (0, core_1.createLogger)({ silent: true }) })];
                case 1:
                    registry = _a.sent();
                    return [4 /*yield*/, cuttableProxy(Number(new URL(registry.url).port))];
                case 2:
                    proxy = _a.sent();
                    direct = new core_1.HttpRegistryClient({ baseUrl: registry.url });
                    viaProxy = new core_1.HttpRegistryClient({ baseUrl: proxy.url });
                    seen = [];
                    connects = 0;
                    sub = viaProxy.subscribe({ types: ['peer_joined'], reconnectDelayMs: 50 });
                    sub.onConnect(function () { return connects++; });
                    sub.onEvent(function (e) { return seen.push(e); });
                    return [4 /*yield*/, waitFor(function () { return connects === 1; })];
                case 3:
                    _a.sent();
                    reg = function (id) { return direct.register({ id: id, name: id, endpoint: 'http://127.0.0.1:1', capabilities: ['c'] }); };
                    i = 0;
                    _a.label = 4;
                case 4:
                    if (!(i < 5)) return [3 /*break*/, 7];
                    return [4 /*yield*/, reg("before-".concat(i))];
                case 5:
                    _a.sent();
                    _a.label = 6;
                case 6:
                    i++;
                    return [3 /*break*/, 4];
                case 7: return [4 /*yield*/, waitFor(function () { return seen.length === 5; })];
                case 8:
                    _a.sent();
                    proxy.cut();
                    i = 0;
                    _a.label = 9;
                case 9:
                    if (!(i < 5)) return [3 /*break*/, 12];
                    return [4 /*yield*/, reg("during-".concat(i))];
                case 10:
                    _a.sent();
                    _a.label = 11;
                case 11:
                    i++;
                    return [3 /*break*/, 9];
                case 12: return [4 /*yield*/, waitFor(function () { return connects >= 2; })];
                case 13:
                    _a.sent();
                    i = 0;
                    _a.label = 14;
                case 14:
                    if (!(i < 5)) return [3 /*break*/, 17];
                    return [4 /*yield*/, reg("after-".concat(i))];
                case 15:
                    _a.sent();
                    _a.label = 16;
                case 16:
                    i++;
                    return [3 /*break*/, 14];
                case 17: return [4 /*yield*/, waitFor(function () { return seen.length >= 15; })];
                case 18:
                    _a.sent();
                    expect(seen.map(function (e) { return e.data.peer_id; })).toEqual(__spreadArray(__spreadArray(__spreadArray([], Array.from({ length: 5 }, function (_, i) { return "before-".concat(i); }), true), Array.from({ length: 5 }, function (_, i) { return "during-".concat(i); }), true), Array.from({ length: 5 }, function (_, i) { return "after-".concat(i); }), true));
                    ids = seen.map(function (e) { return Number(e.id); });
                    expect(new Set(ids).size).toBe(15);
                    expect(sub.lastEventId).toBe(seen[14].id);
                    return [4 /*yield*/, sub.close()];
                case 19:
                    _a.sent();
                    return [4 /*yield*/, proxy.close()];
                case 20:
                    _a.sent();
                    return [4 /*yield*/, registry.close()];
                case 21:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    it('resumes a new subscription from a saved lastEventId', function () { return __awaiter(void 0, void 0, void 0, function () {
        var registry, client, seen, sub;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, registry_1.RegistryServer.start({ insecure: true, logger: (0, core_1.createLogger)({ silent: true }) })];
                case 1:
                    registry = _a.sent();
                    client = new core_1.HttpRegistryClient({ baseUrl: registry.url });
                    return [4 /*yield*/, client.register({ id: 'a', name: 'a', endpoint: 'http://127.0.0.1:1', capabilities: [] })];
                case 2:
                    _a.sent();
                    return [4 /*yield*/, client.deregister('a')];
                case 3:
                    _a.sent();
                    seen = [];
                    sub = client.subscribe({ lastEventId: '1' });
                    sub.onEvent(function (e) { return seen.push(e); });
                    return [4 /*yield*/, waitFor(function () { return seen.length === 1; })];
                case 4:
                    _a.sent();
                    expect(seen[0]).toMatchObject({ id: '2', type: 'peer_left', data: { peer_id: 'a', reason: 'deregistered' } });
                    return [4 /*yield*/, sub.close()];
                case 5:
                    _a.sent();
                    return [4 /*yield*/, registry.close()];
                case 6:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
});
