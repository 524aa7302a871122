// A redis-server of the test's own, on a free port, for faults that must not touch the shared
// Redis (restart, pause): started, stopped (with or without keeping its data) and started again
// on the same port and directory.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export type OwnRedis = {
  readonly port: number;
  readonly url: string;
  /** A plain client for the test itself (CLIENT PAUSE, SAVE, DBSIZE). */
  admin(): Redis;
  /** Stops the server; `keepData` snapshots first so the next start loads today's keys. */
  stop(options: { keepData: boolean }): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
};

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "residency-redis-"));
  let child: ChildProcess | null = null;
  const admins: Redis[] = [];

  async function start() {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => 50 });
    probe.on("error", () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if (probe.status === "wait") await probe.connect();
        if ((await probe.ping()) === "PONG") break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    probe.disconnect();
  }

  async function stop({ keepData }: { keepData: boolean }) {
    if (!child) return;
    const exited = once(child, "exit");
    const client = new Redis({ port, host: "127.0.0.1" });
    client.on("error", () => {});
    if (keepData) await client.save();
    else rmSync(join(dir, "dump.rdb"), { force: true });
    // Not awaited: the server goes away without answering, and the client would retry it.
    client.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
    await exited;
    client.disconnect();
    child = null;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    admin() {
      const client = new Redis({ port, host: "127.0.0.1" });
      client.on("error", () => {});
      admins.push(client);
      return client;
    },
    stop,
    start,
    async close() {
      for (const a of admins) a.disconnect();
      await stop({ keepData: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
