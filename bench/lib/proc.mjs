// Processes and the machine, from /proc: free ports, memory, CPU accounting, a quiet-machine wait.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

import { now, sleep } from "./util.mjs";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS / VmHWM of a process, in MiB, from /proc/<pid>/status. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3 is index 0). */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds (user + system) used so far by a process (USER_HZ = 100). */
export function cpuSecondsOf(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of a process and its direct children, live and reaped (e.g. a postmaster and its
 * backends, or redis-server). NaN when the process is gone.
 */
export function treeCpuSeconds(pid) {
  let total;
  try {
    const f = statFields(pid);
    total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(entry);
      if (Number(f[1]) === pid) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds() {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]
      .trim()
      .split(/\s+/)
      .map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU use over an interval, in % of one core, per group. `groups` maps a name to a function that
 * returns CPU seconds so far (e.g. the servers, the database). The benchmark process itself is
 * "bench"; "other" is everything else on the machine.
 */
export function cpuMeter(groups = {}) {
  const read = () => Object.fromEntries(Object.entries(groups).map(([k, fn]) => [k, fn()]));
  const start = read();
  const selfStart = process.cpuUsage();
  const machineStart = machineBusySeconds();
  const t0 = now();
  return () => {
    const wall = (now() - t0) / 1000;
    const end = read();
    const self = process.cpuUsage(selfStart);
    const bench = (self.user + self.system) / 1e6;
    const result = {};
    let accounted = bench;
    for (const k of Object.keys(groups)) {
      const used = end[k] - start[k];
      if (Number.isFinite(used)) {
        result[`${k}CpuPct`] = (used / wall) * 100;
        accounted += used;
      }
    }
    result.benchCpuPct = (bench / wall) * 100;
    result.otherCpuPct = Math.max(
      0,
      ((machineBusySeconds() - machineStart - accounted) / wall) * 100,
    );
    return result;
  };
}

/**
 * Waits (up to `maxMs`) until the rest of the machine has used less than a quarter of one core
 * for 2 s in a row, so that concurrent test suites disturb a trial less. `groups` as in
 * {@link cpuMeter}: their CPU does not count as "other". Returns the seconds waited.
 */
export async function waitForQuietMachine(groups = {}, maxMs = 90_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const meter = cpuMeter(groups);
    await sleep(2_000);
    if (meter().otherCpuPct < 25) break;
  }
  return (Date.now() - t0) / 1000;
}

/** ISO time of the newest file under `dir` (which build was measured). */
export function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  try {
    walk(dir);
  } catch {
    return "unknown";
  }
  return new Date(newest).toISOString();
}
