// The live dashboard on the requested port, or on a free one when that port is taken.
import { type Dashboard, type DashboardOptions, startDashboard } from "@meridian/dashboard";
import type { Print } from "./options.js";

export async function startDemoDashboard(
  o: DashboardOptions & { port: number },
  print: Print,
): Promise<Dashboard> {
  try {
    return await startDashboard(o);
  } catch (err) {
    if ((err as { code?: string }).code !== "EADDRINUSE") throw err;
    print(`[demo] port ${o.port} is taken; the dashboard takes a free port instead`);
    return startDashboard({ ...o, port: 0 });
  }
}
