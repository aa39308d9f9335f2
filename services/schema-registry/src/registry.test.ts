// Unit tests of the registry's rules over an in-memory log (the Kafka-backed path is tested in test/schema-registry).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compatibilityErrors, parseAvro } from "./avro.js";
import { RegistryError } from "./errors.js";
import { Registry } from "./registry.js";
import { RegistryState } from "./state.js";

/** A log that applies each record at once, in order, and keeps the records for replay. */
function memoryRegistry() {
  const state = new RegistryState();
  const records: [string, string | null][] = [];
  const log = {
    append: async (key: string, value: string | null) => {
      records.push([key, value]);
      state.apply(key, value);
    },
  };
  return { registry: new Registry(state, log), state, records };
}

const record = (fields: object[]) =>
  JSON.stringify({ type: "record", name: "Price", namespace: "t", fields });
const v1 = record([{ name: "symbol", type: "string" }]);
const v2WithDefault = record([
  { name: "symbol", type: "string" },
  { name: "bid", type: "double", default: 0 },
]);
const v2NoDefault = record([
  { name: "symbol", type: "string" },
  { name: "bid", type: "double" },
]);

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<RegistryError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof RegistryError) return err;
    throw err;
  }
  throw new Error("expected a RegistryError");
}

describe("Registry (in-memory log)", () => {
  it("register is idempotent and ids are global across subjects", async () => {
    const { registry } = memoryRegistry();
    const a = await registry.register("prices-value", { schema: v1 });
    const again = await registry.register("prices-value", {
      schema: JSON.stringify(JSON.parse(v1), null, 2),
    });
    const other = await registry.register("other-value", { schema: v1 });
    expect(a.id).toBe(1);
    expect(again.id).toBe(1);
    expect(other.id).toBe(1);
    expect(registry.versions("other-value")).toEqual([1]);
    const b = await registry.register("prices-value", { schema: v2WithDefault });
    expect(b.id).toBe(2);
    expect(registry.versions("prices-value")).toEqual([1, 2]);
    expect(registry.version("prices-value", "latest")).toMatchObject({ id: 2, version: 2 });
    expect(registry.subjects()).toEqual(["other-value", "prices-value"]);
  });

  it("rejects a BACKWARD-incompatible schema with 409 and an invalid one with 422", async () => {
    const { registry } = memoryRegistry();
    await registry.register("s", { schema: v1 });
    const incompatible = await errorOf(registry.register("s", { schema: v2NoDefault }));
    expect([incompatible.httpStatus, incompatible.errorCode]).toEqual([409, 409]);
    const invalid = await errorOf(registry.register("s", { schema: '{"type":"record","name":"X"}' }));
    expect([invalid.httpStatus, invalid.errorCode]).toEqual([422, 42201]);
    const notJson = await errorOf(registry.register("s", { schema: "{nope" }));
    expect(notJson.errorCode).toBe(42201);
    expect(registry.checkCompatibility("s", "latest", { schema: v2NoDefault }).is_compatible).toBe(false);
    expect(registry.checkCompatibility("s", "1", { schema: v2WithDefault }).is_compatible).toBe(true);
  });

  it("NONE accepts anything; FORWARD checks the other direction", async () => {
    const { registry } = memoryRegistry();
    await registry.register("s", { schema: v1 });
    await registry.setConfig("s", { compatibility: "none" });
    expect((await registry.register("s", { schema: v2NoDefault })).id).toBe(2);
    await registry.setConfig("f", { compatibility: "FORWARD" });
    await registry.register("f", { schema: v2NoDefault });
    // Old (with bid) can't read new data without bid: FORWARD fails.
    expect((await errorOf(registry.register("f", { schema: v1 }))).httpStatus).toBe(409);
    expect(registry.subjectConfig("f", false)).toEqual({ compatibilityLevel: "FORWARD" });
    expect((await errorOf(() => registry.subjectConfig("nobody", false))).errorCode).toBe(40408);
    expect(registry.subjectConfig("nobody", true)).toEqual({ compatibilityLevel: "BACKWARD" });
    expect((await errorOf(registry.setConfig(null, { compatibility: "SIDEWAYS" }))).errorCode).toBe(42203);
  });

  it("lookup, not-found errors and soft delete", async () => {
    const { registry } = memoryRegistry();
    await registry.register("s", { schema: v1 });
    expect(registry.lookup("s", { schema: v1 })).toMatchObject({ id: 1, version: 1, subject: "s" });
    expect((await errorOf(() => registry.lookup("s", { schema: v2WithDefault }))).errorCode).toBe(40403);
    expect((await errorOf(() => registry.lookup("t", { schema: v1 }))).errorCode).toBe(40401);
    expect((await errorOf(() => registry.schemaById(77))).httpStatus).toBe(404);
    expect((await errorOf(() => registry.version("s", "7"))).errorCode).toBe(40402);
    expect((await errorOf(() => registry.version("s", "x"))).errorCode).toBe(42202);
    expect(await registry.deleteSubject("s")).toEqual([1]);
    expect(registry.subjects()).toEqual([]);
    expect(registry.schemaById(1).schema).toBe(v1);
    // Re-registering after a delete gets the same id and a new version number.
    expect((await registry.register("s", { schema: v1 })).id).toBe(1);
    expect(registry.versions("s")).toEqual([2]);
  });

  it("replaying the log rebuilds identical state (property: any sequence of registrations)", async () => {
    const fieldNames = fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e"), {
      minLength: 1,
      maxLength: 5,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("s1", "s2", "s3"), fieldNames), { minLength: 1, maxLength: 12 }),
        async (ops) => {
          const { registry, records } = memoryRegistry();
          await registry.setConfig(null, { compatibility: "NONE" });
          const ids: number[] = [];
          for (const [subject, names] of ops) {
            const schema = record(names.map((n) => ({ name: n, type: "int" })));
            ids.push((await registry.register(subject, { schema })).id);
          }
          const replayed = new RegistryState();
          for (const [k, v] of records) replayed.apply(k, v);
          const again = new Registry(replayed, { append: async () => {} });
          expect(again.subjects()).toEqual(registry.subjects());
          for (const s of registry.subjects()) expect(again.versions(s)).toEqual(registry.versions(s));
          for (const id of ids) expect(again.schemaById(id)).toEqual(registry.schemaById(id));
          // Equal schema text always maps to one id.
          const byText = new Map<string, number>();
          for (const id of ids) {
            const text = registry.schemaById(id).schema;
            expect(byText.get(text) ?? id).toBe(id);
            byText.set(text, id);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("compatibilityErrors", () => {
  const t1 = parseAvro(v1);
  const t2 = parseAvro(v2WithDefault);
  const t3 = parseAvro(v2NoDefault);
  it("applies transitive levels to every earlier schema, plain levels to the latest", () => {
    // v3 (no default) vs [v1, v2]: BACKWARD vs latest (v2 has bid) passes; transitive vs v1 fails.
    expect(compatibilityErrors("BACKWARD", t3, [t1, t2])).toEqual([]);
    expect(compatibilityErrors("BACKWARD_TRANSITIVE", t3, [t1, t2])).toHaveLength(1);
    expect(compatibilityErrors("FULL", t2, [t1])).toEqual([]);
    expect(compatibilityErrors("NONE", t3, [t1])).toEqual([]);
  });
});
