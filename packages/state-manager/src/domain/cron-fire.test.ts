import { describe, expect, it } from "vitest";

import { parseCron } from "./cron.js";
import {
  cronAnchor,
  latestCronTime,
  MAX_COUNTED_MISSES,
  nextCronFireAt,
  planCronFire,
} from "./cron-fire.js";

const ms = (iso: string): number => Date.parse(iso);
const everyMinute = parseCron("* * * * *");

describe("planCronFire", () => {
  it("fires nothing before the first instant after the anchor", () => {
    expect(
      planCronFire(everyMinute, ms("2024-01-01T10:00:00Z"), ms("2024-01-01T10:00:59.999Z")),
    ).toBeUndefined();
  });

  it("fires one due instant as scheduled, even a little late", () => {
    expect(
      planCronFire(everyMinute, ms("2024-01-01T10:00:00Z"), ms("2024-01-01T10:01:20Z")),
    ).toEqual({ instant: ms("2024-01-01T10:01:00Z"), catchUp: false, missed: 0 });
  });

  it("never fires the anchor itself again", () => {
    const anchor = ms("2024-01-01T10:01:00Z");
    expect(planCronFire(everyMinute, anchor, anchor)).toBeUndefined();
  });

  it("folds several missed instants into one catch-up of the newest", () => {
    expect(
      planCronFire(everyMinute, ms("2024-01-01T10:00:00Z"), ms("2024-01-01T10:10:30Z")),
    ).toEqual({ instant: ms("2024-01-01T10:10:00Z"), catchUp: true, missed: 9 });
  });

  it("counts misses up to a bound after a long downtime of an every-second trigger", () => {
    const plan = planCronFire(
      parseCron("* * * * * *"),
      ms("2024-01-01T00:00:00Z"),
      ms("2024-02-01T00:00:00.500Z"),
    );
    expect(plan).toEqual({
      instant: ms("2024-02-01T00:00:00Z"),
      catchUp: true,
      missed: MAX_COUNTED_MISSES,
    });
  });

  it("returns nothing for an expression that never matches", () => {
    expect(planCronFire(parseCron("0 0 30 2 *"), 0, ms("2024-01-01T00:00:00Z"))).toBeUndefined();
  });
});

describe("latestCronTime", () => {
  it("finds the newest instant far back without walking every one", () => {
    expect(
      latestCronTime(
        parseCron("0 0 1 1 *"),
        ms("2000-01-01T00:00:00Z"),
        ms("2024-06-01T00:00:00Z"),
      ),
    ).toBe(ms("2024-01-01T00:00:00Z"));
  });

  it("finds a sparse instant inside a wide window", () => {
    expect(
      latestCronTime(
        parseCron("* 0 * * *"),
        ms("2024-01-01T00:00:00Z"),
        ms("2024-01-02T12:00:00Z"),
      ),
    ).toBe(ms("2024-01-02T00:59:00Z"));
  });
});

describe("cronAnchor and nextCronFireAt", () => {
  it("resumes after the newest fire, or after the time the trigger was added", () => {
    expect(cronAnchor({ since: 5, last_fire: null })).toBe(5);
    expect(
      cronAnchor({
        since: 5,
        last_fire: {
          namespace: "n",
          graph_name: "g",
          expression: "* * * * *",
          instant: 60_000,
          fired_at: 60_001,
          catch_up: false,
          missed: 0,
          run_id: "r",
          error: null,
        },
      }),
    ).toBe(60_000);
  });

  it("shows the instant a due tick claims, else the next one after now", () => {
    const anchor = ms("2024-01-01T10:00:00Z");
    expect(nextCronFireAt(everyMinute, anchor, ms("2024-01-01T10:00:30Z"))).toBe(
      ms("2024-01-01T10:01:00Z"),
    );
    expect(nextCronFireAt(everyMinute, anchor, ms("2024-01-01T10:05:30Z"))).toBe(
      ms("2024-01-01T10:05:00Z"),
    );
    expect(nextCronFireAt(parseCron("0 0 30 2 *"), anchor, anchor)).toBeUndefined();
  });
});
