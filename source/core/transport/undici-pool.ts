/**
 * undici's Pool alone. `import { Pool } from "undici"` evaluates the whole package (fetch,
 * WebSocket, the cache and mock agents, …): about a third of a one-shot command's start-up
 * (BENCHMARKS.md, issue 18). These modules are the Pool with the HTTP/1 and HTTP/2 clients,
 * and the request API that undici's index puts on every dispatcher, as the index does.
 */
import type { Pool as UndiciPool } from "undici";
import api from "undici/lib/api/index.js";
import Dispatcher from "undici/lib/dispatcher/dispatcher.js";
import PoolClass from "undici/lib/dispatcher/pool.js";

Object.assign(Dispatcher.prototype, api);

export const Pool: typeof UndiciPool = PoolClass;
export type Pool = UndiciPool;
