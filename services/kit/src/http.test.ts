import { InvalidInputError, StalenessBoundError } from "@meridian/core";
import { afterAll, describe, expect, it } from "vitest";
import { errorToResponse, listen, Router, type StartedServer } from "./http.js";

describe("http router", () => {
  const servers: StartedServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("matches params, answers 404/405, maps typed errors to status codes", async () => {
    const router = new Router()
      .on("GET", "/v1/:class/:key", (req) => ({ status: 200, body: req.params }))
      .on("PUT", "/v1/:class/:key", (req) => {
        if (typeof req.body !== "object") throw new InvalidInputError("no body", { field: "body" });
        return { status: 200, body: req.body };
      });
    const s = await listen(router, 0, "127.0.0.1");
    servers.push(s);
    const get = await fetch(`${s.url}/v1/important/md%3AX`);
    expect(await get.json()).toEqual({ class: "important", key: "md:X" });
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/v1/a/b`, { method: "DELETE" })).status).toBe(405);
    const bad = await fetch(`${s.url}/v1/a/b`, { method: "PUT", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "INVALID_INPUT" } });
  });

  it("maps error classes", () => {
    expect(errorToResponse(new StalenessBoundError("old")).status).toBe(412);
    expect(errorToResponse(new Error("boom"))).toMatchObject({
      status: 500,
      body: { error: { code: "INTERNAL" } },
    });
  });
});
