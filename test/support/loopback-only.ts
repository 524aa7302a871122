// Loaded before every test file (vitest.config.ts setupFiles): a test that opens a TCP or TLS
// connection to anything but loopback fails at once, naming the host — so "no test sends traffic
// off loopback" is checked on every run, not hoped for (an SDK's credential chain probing instance
// metadata at 169.254.169.254, a URL pointing at a real cloud endpoint). Unix sockets are fine.

import net from "node:net";

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/i;

type ConnectArgs = Parameters<net.Socket["connect"]>;

/** The host a Socket#connect call would reach, or null for a Unix socket path. */
function hostOf(args: unknown[]): string | null {
  const [first, second] = args;
  // Node passes its own normalised [options, cb] array when called from net.connect.
  const options = Array.isArray(first) ? first[0] : first;
  if (typeof options === "string") return null; // a path
  if (typeof options === "number") return typeof second === "string" ? second : "localhost";
  if (options && typeof options === "object") {
    const o = options as { path?: unknown; host?: unknown };
    if (typeof o.path === "string") return null;
    return typeof o.host === "string" && o.host !== "" ? o.host : "localhost";
  }
  return "localhost";
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const host = hostOf(args);
  if (host !== null && !LOOPBACK.test(host.replace(/^\[|\]$/g, ""))) {
    throw new Error(`a test tried to connect to ${host}: tests stay on loopback`);
  }
  return connect.apply(this, args as ConnectArgs);
} as typeof connect;
