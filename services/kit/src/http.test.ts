import {
  BackendUnavailableError,
  InvalidInputError,
  OverloadedError,
  Secret,
  StalenessBoundError,
} from "@meridian/core";
import { afterAll, describe, expect, it } from "vitest";
import { authorize, bearerMatches } from "./auth.js";
import { errorToResponse, listen, Router, type StartedServer } from "./http.js";

const token = new Secret("s3cret-token");
const auth = { token, reads: false };
const bearer = { authorization: "Bearer s3cret-token" };

describe("http router on fastify", () => {
  const servers: StartedServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function serve(router: Router, opts = {}): Promise<StartedServer> {
    const s = await listen(router, 0, "127.0.0.1", undefined, { auth, ...opts });
    servers.push(s);
    return s;
  }

  it("matches params, answers 404/405, maps typed errors to status codes", async () => {
    const router = new Router()
      .on("GET", "/v1/:class/:key", (req) => ({ status: 200, body: req.params }))
      .on("PUT", "/v1/:class/:key", (req) => {
        if (typeof req.body !== "object") throw new InvalidInputError("no body", { field: "body" });
        return { status: 200, body: req.body };
      });
    const s = await serve(router);
    const get = await fetch(`${s.url}/v1/important/md%3AX`);
    expect(await get.json()).toEqual({ class: "important", key: "md:X" });
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/v1/a/b`, { method: "DELETE", headers: bearer })).status).toBe(405);
    const bad = await fetch(`${s.url}/v1/a/b`, { method: "PUT", body: "{not json", headers: bearer });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "INVALID_INPUT" } });
  });

  it("refuses JSON nested 100,000 deep, an oversized body and schema violations with 400s naming the field", async () => {
    const router = new Router().on("PUT", "/v1/:class/:key", (req) => ({ status: 200, body: req.body }), {
      schema: {
        params: {
          type: "object",
          properties: { class: { enum: ["critical", "important"] }, key: { type: "string", maxLength: 8 } },
        },
        body: { type: "object", required: ["value"] },
      },
    });
    const s = await serve(router, { limits: { bodyBytes: 300_000 } });
    const put = (path: string, body: string) =>
      fetch(`${s.url}${path}`, {
        method: "PUT",
        body,
        headers: { ...bearer, "content-type": "application/json" },
      });
    const deep = await put("/v1/important/k", `{"value":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({
      error: { code: "INVALID_INPUT", details: { field: "body", limit: "maxDepth" } },
    });
    const huge = await put("/v1/important/k", JSON.stringify({ value: "x".repeat(400_000) }));
    expect(huge.status).toBe(413);
    const badClass = await put("/v1/weak/k", '{"value":1}');
    expect(badClass.status).toBe(400);
    expect(await badClass.json()).toMatchObject({ error: { details: { field: "class" } } });
    const longKey = await put("/v1/important/0123456789", '{"value":1}');
    expect(await longKey.json()).toMatchObject({ error: { details: { field: "key" } } });
    const noValue = await put("/v1/important/k", '{"other":1}');
    expect(await noValue.json()).toMatchObject({ error: { details: { field: "value" } } });
    expect((await put("/v1/important/k", '{"value":[1,2]}')).status).toBe(200);
  });

  it("writes need the bearer token (401 + WWW-Authenticate); reads only when configured; health never", async () => {
    const router = new Router()
      .on("GET", "/r", () => ({ status: 200, body: {} }))
      .on("POST", "/w", () => ({ status: 200, body: {} }))
      .on("GET", "/healthz", () => ({ status: 200, body: {} }), { access: "public" });
    const open = await serve(router);
    const noToken = await fetch(`${open.url}/w`, { method: "POST" });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("www-authenticate")).toMatch(/^Bearer realm="meridian"/);
    const wrong = await fetch(`${open.url}/w`, { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await fetch(`${open.url}/w`, { method: "POST", headers: bearer })).status).toBe(200);
    expect((await fetch(`${open.url}/r`)).status).toBe(200);

    const closed = await serve(router, { auth: { token, reads: true } });
    expect((await fetch(`${closed.url}/r`)).status).toBe(401);
    expect((await fetch(`${closed.url}/r`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${closed.url}/healthz`)).status).toBe(200);

    const unconfigured = await serve(router, { auth: { reads: false } });
    expect((await fetch(`${unconfigured.url}/w`, { method: "POST", headers: bearer })).status).toBe(401);
  });

  it("answers overload and an unavailable backend with 503 + Retry-After (the error's hint, else 1 s)", async () => {
    const router = new Router()
      .on("PUT", "/full", () => {
        throw new OverloadedError("write queue full", { queued: 1024, retryAfterMs: 2_500 });
      })
      .on("PUT", "/down", () => {
        throw new BackendUnavailableError("postgres down");
      })
      .on("PUT", "/bad", () => {
        throw new InvalidInputError("no");
      });
    const s = await serve(router);
    const full = await fetch(`${s.url}/full`, { method: "PUT", headers: bearer });
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("3");
    expect(await full.json()).toMatchObject({ error: { code: "OVERLOADED", details: { queued: 1024 } } });
    const down = await fetch(`${s.url}/down`, { method: "PUT", headers: bearer });
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("1");
    expect(await down.json()).toMatchObject({ error: { code: "BACKEND_UNAVAILABLE" } });
    const bad = await fetch(`${s.url}/bad`, { method: "PUT", headers: bearer });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("retry-after")).toBeNull();
  });

  it("maps error classes", () => {
    expect(errorToResponse(new StalenessBoundError("old")).status).toBe(412);
    expect(errorToResponse(new Error("boom"))).toMatchObject({
      status: 500,
      body: { error: { code: "INTERNAL" } },
    });
  });
});

describe("bearer token check", () => {
  it("accepts exactly the token, in any scheme case, and nothing else", () => {
    expect(bearerMatches("Bearer s3cret-token", token)).toBe(true);
    expect(bearerMatches("bearer s3cret-token", token)).toBe(true);
    for (const h of [
      undefined,
      "",
      "Bearer",
      "Bearer s3cret-toke",
      "Bearer s3cret-tokenX",
      "Basic s3cret-token",
      "s3cret-token",
    ]) {
      expect(bearerMatches(h, token)).toBe(false);
    }
    expect(authorize("write", "Bearer s3cret-token", auth)).toBeUndefined();
    expect(authorize("read", undefined, auth)).toBeUndefined();
    expect(authorize("public", undefined, { token, reads: true })).toBeUndefined();
  });
});
