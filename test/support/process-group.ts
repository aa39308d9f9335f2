// Servers that tests start detached (their own process group) in a temp folder: one way to get rid of them.
import { rmSync } from "node:fs";

/** SIGKILL to the group led by `pid` (if started) and the folder removed; a throwaway server needs no clean stop. */
export async function killGroupAndRemove(pid: number | undefined, dir: string): Promise<void> {
  if (pid !== undefined) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
