import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { buildBundle, fileRevision, putBundle } from "./support.ts";

// Each candidate is parsed, verified, instantiated and self-checked once, and that very instance
// is what serves: `residency_bundle_instantiations_total` counts wasm instances, so every
// activation or rollback adds exactly one, a dry run none (its candidate runs in a worker), and a
// push of the serving bundle none.

async function metric(t: TestService, name: string, labels = ""): Promise<number> {
  const text = (await request(t.handler).get("/metrics")).text;
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

describe("one load per activation", () => {
  let t: TestService;
  let revB: Buffer;
  const instances = () => metric(t, "residency_bundle_instantiations_total");
  const activations = () => metric(t, "residency_bundle_loads_total", '{outcome="activated"}');

  beforeAll(async () => {
    revB = buildBundle("rev-one-load-b");
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts one wasm instance for the start-up activation", async () => {
    expect(await activations()).toBe(1);
    expect(await instances()).toBe(1);
  });

  it("a push, a rollback and a dry run each instantiate their candidate once", async () => {
    const [i0, a0] = [await instances(), await activations()];

    const pushed = await putBundle(t.handler, ADMIN_KEY, revB);
    expect(pushed.status).toBe(201);
    expect(pushed.body).toMatchObject({ revision: "rev-one-load-b", changed: true });
    expect([(await instances()) - i0, (await activations()) - a0]).toEqual([1, 1]);

    const back = await api(t.handler, ADMIN_KEY).post(`/api/v1/bundles/${fileRevision()}/activate`);
    expect(back.status).toBe(200);
    expect([(await instances()) - i0, (await activations()) - a0]).toEqual([2, 2]);

    // A dry run's candidate runs only in a worker (bundles/sandbox.ts): no instance on this thread.
    const dry = await putBundle(t.handler, ADMIN_KEY, revB, "?dry_run=true&limit=5");
    expect(dry.status).toBe(200);
    expect([(await instances()) - i0, (await activations()) - a0]).toEqual([2, 2]);
  });

  it("an activated bundle answers on its own evaluation thread from its first decision", async () => {
    // The thread is started before the swap (bundle-service swapIn), so no miss of the new bundle
    // runs on the event loop under vm's costlier limit while it starts.
    const pushed = await putBundle(t.handler, ADMIN_KEY, buildBundle("rev-one-load-warm"));
    expect(pushed.status).toBe(201);
    const serving = t.service.bundles.engine.current();
    expect(serving?.revision).toBe("rev-one-load-warm");
    expect(serving?.servesOnThread()).toBe(true);
    const back = await api(t.handler, ADMIN_KEY).post(`/api/v1/bundles/${fileRevision()}/activate`);
    expect(back.status).toBe(200);
    expect(t.service.bundles.engine.current()?.servesOnThread()).toBe(true);
    expect(serving?.servesOnThread()).toBe(false); // the replaced bundle's thread is ended
  });

  it("re-pushing the serving bundle loads nothing", async () => {
    const i0 = await instances();
    const same = await putBundle(t.handler, ADMIN_KEY, await servingBytes());
    expect(same.status).toBe(200);
    expect(same.body.changed).toBe(false);
    expect(await instances()).toBe(i0);
  });

  /** The serving bundle's bytes, as stored. */
  async function servingBytes(): Promise<Buffer> {
    const bytes = t.service.bundles.engine.current()?.bytes;
    if (!bytes) throw new Error("no bundle is serving");
    return bytes;
  }
});
