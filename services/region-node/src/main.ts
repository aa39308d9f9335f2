// Runs one region node as a process. Env: see services/README.md.
import { stopOnSignals } from "@meridian/service-kit";
import { startRegionNodeFromEnv } from "./node-from-env.js";

const node = await startRegionNodeFromEnv(process.env);
node.logger.info({ url: node.handle.url }, "listening");
stopOnSignals(() => node.stop(), node.logger);
