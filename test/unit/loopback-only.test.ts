import net from "node:net";
import { describe, expect, it } from "vitest";

// The guard in test/support/loopback-only.ts is active in every test file.

describe("tests stay on loopback", () => {
  it("a connection to a public or metadata address fails before a packet is sent", async () => {
    for (const host of ["169.254.169.254", "s3.amazonaws.com", "10.0.0.1", "::2"]) {
      expect(() => net.connect(80, host), host).toThrow(/tests stay on loopback/);
    }
    const probe = await fetch("http://169.254.169.254/latest/meta-data/").catch((err: Error) => err);
    expect(String((probe as Error).cause)).toMatch(/tests stay on loopback/);
  });

  it("loopback connections still work", async () => {
    const server = net.createServer((s) => s.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1");
      let data = "";
      socket.on("data", (c) => (data += c));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(reply).toBe("ok");
    server.close();
  });
});
