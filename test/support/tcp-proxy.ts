// A TCP proxy a test can cut and restore, to play a database (or Redis) going away and coming
// back without touching the real server: `pause()` drops every open connection and refuses new
// ones, `resume()` lets them through again. `freeze()` plays a hung server or a silent network:
// connections stay open and accepted, but no byte moves either way until `thaw()`.

import net from "node:net";

export type TcpProxy = {
  readonly port: number;
  /** `url` with its host and port replaced by this proxy's. */
  url(url: string): string;
  pause(): void;
  resume(): void;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
};

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let paused = false;
  let frozen = false;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Errors are the point of a cut; the peer socket's close is what matters.
    socket.on("error", () => {});
  };

  const server = net.createServer((client) => {
    track(client);
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    if (frozen) {
      client.pause();
      upstream.pause();
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tcp proxy: no port");
  const port = address.port;

  return {
    port,
    url(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    pause() {
      paused = true;
      for (const socket of sockets) socket.destroy();
    },
    resume() {
      paused = false;
    },
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      paused = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
