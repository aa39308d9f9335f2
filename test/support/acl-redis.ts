// A private redis-server child on a free port whose only user is `meridian` with `password` (the default
// user is off), for tests of credentials. Killed by the returned stop().
import { spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, "127.0.0.1");
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export async function startAclRedis(password: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--user",
      "default",
      "off",
      "--user",
      "meridian",
      "on",
      `>${password}`,
      "~*",
      "&*",
      "+@all",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100 && !(await accepting(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill("SIGKILL") };
}
