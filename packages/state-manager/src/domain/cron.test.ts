import { describe, expect, it } from "vitest";

import {
  type CronSchedule,
  CronNoMatchError,
  CronSyntaxError,
  MAX_CRON_SEARCH_YEARS,
  nextCronTime,
  parseCron,
  validateCron,
} from "./cron.js";

const ms = (iso: string): number => Date.parse(iso);
const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const next = (expression: string, afterIso: string): string =>
  iso(nextCronTime(parseCron(expression), ms(afterIso)));

const range = (start: number, end: number): number[] =>
  Array.from({ length: end - start + 1 }, (_, i) => start + i);

describe("parseCron: valid expressions", () => {
  it.each([
    "* * * * *",
    "0 9 * * 1-5",
    "*/15 * * * *",
    "5/15 * * * *",
    "0-30/10 1,2,3 * * *",
    "0 0 1 jan *",
    "0 0 1 JAN-Mar,jul *",
    "0 0 * * MON-FRI",
    "0 0 * * fri-sun",
    "0 0 * * 5-0",
    "0 0 * * 7",
    "0 0 * * 0-7",
    "0 0 * * 7-2",
    "0 0 ? * mon",
    "0 0 1 * ?",
    "0 0 L * *",
    "0 0 l * *",
    "0 0 15-L * *",
    "0 0 1-L/2 * *",
    "0 0 1,15,L * *",
    "0 0 30 2 *",
    "00 09 * * *",
    "*/100 * * * *",
    "*,5 * * * *",
    "* * * * * 15",
    "* * * * * */10",
    "@hourly",
    "@YEARLY",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "  0 9 * * 1-5  ",
    "0\t9 *  * \t *   1",
  ])("accepts %j", (expression) => {
    expect(validateCron(expression)).toBeNull();
    expect(parseCron(expression).expression).toBe(expression);
  });
});

describe("parseCron: invalid expressions", () => {
  it.each([
    ["", "the expression is empty"],
    ["   ", "the expression is empty"],
    ["* * * *", "expected 5 fields"],
    ["* * * *", "got 4"],
    ["* * * * * * *", "got 7"],
    ["* * * * * * 2030", "got 7"],
    ["61 * * * *", "minute value 61 is out of range 0-59"],
    ["* 24 * * *", "hour value 24 is out of range 0-23"],
    ["* * 0 * *", "day-of-month value 0 is out of range 1-31"],
    ["* * 32 * *", "day-of-month value 32 is out of range 1-31"],
    ["* * * 0 *", "month value 0 is out of range 1-12"],
    ["* * * 13 *", "month value 13 is out of range 1-12"],
    ["* * * * 8", "day-of-week value 8 is out of range 0-7"],
    ["* * * * * 60", "second value 60 is out of range 0-59"],
    ["1-60 * * * *", "minute value 60 is out of range"],
    ["*/0 * * * *", 'minute step in "*/0" must be at least 1'],
    ["1-5/0 * * * *", "must be at least 1"],
    ["*/ * * * *", 'minute step in "*/" must be a whole number'],
    ["*/x * * * *", "must be a whole number"],
    ["1/2/3 * * * *", "must be a whole number"],
    ["5-1 * * * *", 'minute range "5-1" is reversed'],
    ["* 22-2 * * *", 'hour range "22-2" is reversed'],
    ["* * * dec-jan *", 'month range "dec-jan" is reversed'],
    ["* * * * fri-mon", 'day-of-week range "fri-mon" is reversed'],
    ["1-2-3 * * * *", 'minute "1-2-3" is not a valid range'],
    ["1- * * * *", 'minute "1-" is not a valid range'],
    ["-5 * * * *", "negative numbers are not allowed"],
    ["*-5 * * * *", 'minute value "*" is not a number'],
    ["abc * * * *", 'minute value "abc" is not a number'],
    ["jan * * * *", 'minute value "jan" is not a number'],
    ["+5 * * * *", 'minute value "+5" is not a number'],
    ["* * * janu *", 'month value "janu" is not a number or a month name (jan-dec)'],
    ["* * * * jan", 'day-of-week value "jan" is not a number or a day name (sun-sat)'],
    ["* * * * monday", 'day-of-week value "monday"'],
    ["1,,2 * * * *", 'minute field "1,,2" has an empty list item'],
    ["1, * * * *", "has an empty list item"],
    ["? * * * *", '"?" is only allowed in day-of-month and day-of-week'],
    ["* * ?,1 * *", '"?" must stand alone'],
    ["* * * * 1#2", '"#" (nth weekday of the month) is not supported'],
    ["* * * * fri#1", '"#" (nth weekday of the month) is not supported'],
    ["* * * * L5", '"L" (last weekday of the month) is not supported in day-of-week'],
    ["* * * * 5L", "is not supported in day-of-week"],
    ["* * 15W * *", '"W" (nearest weekday) is not supported'],
    ["* * LW * *", '"W" (nearest weekday) is not supported'],
    ["R * * * *", 'random "R" values are not supported'],
    ["r(0-10) * * * *", 'random "R" values are not supported'],
    ["H * * * *", 'hashed "H" values are not supported'],
    ["L * * * *", '"L" is only supported in day-of-month'],
    ["* * * L *", '"L" is only supported in day-of-month'],
    ["* * L-5 * *", '"L" may only stand alone or end a range'],
    ["* * L/2 * *", '"L" cannot take a step'],
    ["@reboot", 'unknown alias "@reboot"'],
    ["@hourly *", "unknown alias"],
    ["garbage", "got 1"],
  ])("rejects %j with %j", (expression, fragment) => {
    expect(() => parseCron(expression)).toThrow(CronSyntaxError);
    expect(validateCron(expression)).toContain(fragment);
  });

  it("builds a message naming the expression, the field and the problem", () => {
    let caught: unknown;
    try {
      parseCron("61 * * * *");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CronSyntaxError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as CronSyntaxError;
    expect(error.name).toBe("CronSyntaxError");
    expect(error.expression).toBe("61 * * * *");
    expect(error.reason).toBe("minute value 61 is out of range 0-59");
    expect(error.message).toBe(
      'invalid cron expression "61 * * * *": minute value 61 is out of range 0-59',
    );
    expect(validateCron("61 * * * *")).toBe(error.message);
  });
});

describe("parseCron: field sets", () => {
  it("expands weekdays at 09:00 with seconds at 0", () => {
    expect(parseCron("0 9 * * 1-5")).toEqual({
      expression: "0 9 * * 1-5",
      seconds: [0],
      minutes: [0],
      hours: [9],
      daysOfMonth: range(1, 31),
      lastDayOfMonth: false,
      months: range(1, 12),
      daysOfWeek: [1, 2, 3, 4, 5],
      dayMatching: "and",
    } satisfies CronSchedule);
  });

  it("expands steps, lists and the seconds field", () => {
    const schedule = parseCron("5/20,1 0-6/3 * * * */15");
    expect(schedule.minutes).toEqual([1, 5, 25, 45]);
    expect(schedule.hours).toEqual([0, 3, 6]);
    expect(schedule.seconds).toEqual([0, 15, 30, 45]);
  });

  it("folds 7 into Sunday and reads ranges ending at Sunday as ending at 7", () => {
    expect(parseCron("0 0 * * 0,7").daysOfWeek).toEqual([0]);
    expect(parseCron("0 0 * * fri-sun").daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCron("0 0 * * 1-7/2").daysOfWeek).toEqual([0, 1, 3, 5]);
    expect(parseCron("0 0 * * 7-2").daysOfWeek).toEqual([0, 1, 2]);
    expect(parseCron("0 0 * * */2").daysOfWeek).toEqual([0, 2, 4, 6]);
  });

  it("reads names case-insensitively", () => {
    expect(parseCron("0 0 * Jan,MAR-may *").months).toEqual([1, 3, 4, 5]);
    expect(parseCron("0 0 * * Sun,WED").daysOfWeek).toEqual([0, 3]);
  });

  it("keeps L apart from the numbered days", () => {
    const schedule = parseCron("0 0 1,L * *");
    expect(schedule.daysOfMonth).toEqual([1]);
    expect(schedule.lastDayOfMonth).toBe(true);
    expect(parseCron("0 0 28-L * *").daysOfMonth).toEqual([28, 29, 30, 31]);
  });

  it("reads a-a and a/n at the field maximum as the single value a (classic cron)", () => {
    expect(parseCron("5-5 * * * *").minutes).toEqual([5]);
    expect(parseCron("* 23/10 * * *").hours).toEqual([23]);
    expect(parseCron("* * * * sun-sun").daysOfWeek).toEqual([0]);
  });

  it("expands aliases like croniter", () => {
    const fields = (expression: string) => {
      const { expression: _expression, ...rest } = parseCron(expression);
      return rest;
    };
    expect(fields("@yearly")).toEqual(fields("0 0 1 1 *"));
    expect(fields("@Annually")).toEqual(fields("0 0 1 1 *"));
    expect(fields("@monthly")).toEqual(fields("0 0 1 * *"));
    expect(fields("@weekly")).toEqual(fields("0 0 * * 0"));
    expect(fields("@daily")).toEqual(fields("0 0 * * *"));
    expect(fields("@MIDNIGHT")).toEqual(fields("0 0 * * *"));
    expect(fields("@hourly")).toEqual(fields("0 * * * *"));
  });

  it.each([
    ["0 0 * * *", "and"],
    ["0 0 1 * *", "and"],
    ["0 0 * * 1", "and"],
    ["0 0 ? * 1", "and"],
    ["0 0 1 * 1", "or"],
    ["0 0 */2 * 1", "or"],
    ["0 0 L * fri", "or"],
    // croniter: a field listing every value counts as "*" only beside a "*" in the other.
    ["0 0 1-31 * */2", "and"],
    ["0 0 1-31 * 1", "or"],
    ["0 0 1 * 0-6", "or"],
  ] as const)("day matching of %j is %j", (expression, dayMatching) => {
    expect(parseCron(expression).dayMatching).toBe(dayMatching);
  });
});

describe("nextCronTime", () => {
  it("fires every minute, strictly after the given instant", () => {
    expect(next("* * * * *", "2024-01-01T00:00:00.000Z")).toBe("2024-01-01T00:01:00.000Z");
    expect(next("* * * * *", "2024-01-01T00:00:30.500Z")).toBe("2024-01-01T00:01:00.000Z");
    expect(next("* * * * *", "2024-01-01T00:00:59.999Z")).toBe("2024-01-01T00:01:00.000Z");
    expect(next("* * * * *", "2023-12-31T23:59:00.000Z")).toBe("2024-01-01T00:00:00.000Z");
  });

  it("skips the weekend for weekdays at 09:00", () => {
    // 2024-01-05 is a Friday.
    expect(next("0 9 * * 1-5", "2024-01-05T08:59:59.999Z")).toBe("2024-01-05T09:00:00.000Z");
    expect(next("0 9 * * 1-5", "2024-01-05T09:00:00.000Z")).toBe("2024-01-08T09:00:00.000Z");
    expect(next("0 9 * * mon-fri", "2024-01-06T12:00:00.000Z")).toBe("2024-01-08T09:00:00.000Z");
  });

  it("finds the last day of February with L in leap and common years", () => {
    expect(next("0 0 L 2 *", "2024-01-15T00:00:00.000Z")).toBe("2024-02-29T00:00:00.000Z");
    expect(next("0 0 L 2 *", "2023-01-15T00:00:00.000Z")).toBe("2023-02-28T00:00:00.000Z");
    expect(next("0 0 L 2 *", "2024-02-29T00:00:00.000Z")).toBe("2025-02-28T00:00:00.000Z");
    expect(next("30 23 L * *", "2024-02-29T23:30:00.000Z")).toBe("2024-03-31T23:30:00.000Z");
    expect(next("0 0 L * *", "2024-04-01T00:00:00.000Z")).toBe("2024-04-30T00:00:00.000Z");
  });

  it("skips months that lack the day", () => {
    expect(next("0 0 31 * *", "2024-01-31T00:00:00.000Z")).toBe("2024-03-31T00:00:00.000Z");
    expect(next("0 0 29 2 *", "2023-03-01T00:00:00.000Z")).toBe("2024-02-29T00:00:00.000Z");
    // February 29 skips 2100: the search must reach eight years ahead.
    expect(next("0 0 29 2 *", "2096-03-01T00:00:00.000Z")).toBe("2104-02-29T00:00:00.000Z");
  });

  it("understands month and day names", () => {
    // 2024-06-01 is the first Saturday of June 2024.
    expect(next("30 8 * jun sat", "2024-01-01T00:00:00.000Z")).toBe("2024-06-01T08:30:00.000Z");
    expect(next("0 12 1 JAN,jul *", "2024-01-01T12:00:00.000Z")).toBe("2024-07-01T12:00:00.000Z");
  });

  it("honours the seconds field", () => {
    expect(next("* * * * * 15", "2024-01-01T12:00:10.000Z")).toBe("2024-01-01T12:00:15.000Z");
    expect(next("* * * * * 15", "2024-01-01T12:00:15.000Z")).toBe("2024-01-01T12:01:15.000Z");
    expect(next("* * * * * */20", "2024-01-01T12:00:45.123Z")).toBe("2024-01-01T12:01:00.000Z");
    expect(next("* * * * * *", "2024-01-01T12:00:00.999Z")).toBe("2024-01-01T12:00:01.000Z");
    expect(next("0 0 * * * 30", "2024-01-01T00:00:30.000Z")).toBe("2024-01-02T00:00:30.000Z");
  });

  it("treats 0 and 7 as Sunday", () => {
    // 2024-01-03 is a Wednesday, 2024-01-07 a Sunday.
    for (const expression of ["0 12 * * 0", "0 12 * * 7", "0 12 * * sun", "0 12 * * sat-sun"]) {
      const after = expression.endsWith("sat-sun")
        ? "2024-01-06T12:00:00.000Z"
        : "2024-01-03T00:00:00.000Z";
      expect(next(expression, after)).toBe("2024-01-07T12:00:00.000Z");
    }
  });

  it("matches either day field when both are restricted", () => {
    // The 13th OR any Friday; 2024-01-05 and 2024-01-12 are Fridays.
    expect(next("0 0 13 * 5", "2024-01-01T00:00:00.000Z")).toBe("2024-01-05T00:00:00.000Z");
    expect(next("0 0 13 * 5", "2024-01-05T00:00:00.000Z")).toBe("2024-01-12T00:00:00.000Z");
    expect(next("0 0 13 * 5", "2024-01-12T00:00:00.000Z")).toBe("2024-01-13T00:00:00.000Z");
    // A "*" or "?" day field restricts nothing, so the other one alone decides.
    expect(next("0 0 13 * *", "2024-01-01T00:00:00.000Z")).toBe("2024-01-13T00:00:00.000Z");
    expect(next("0 0 ? * 5", "2024-01-06T00:00:00.000Z")).toBe("2024-01-12T00:00:00.000Z");
  });

  it("keeps the OR rule when one day field can never match", () => {
    // No November 31st, so only the Sundays remain (croniter raises here instead).
    expect(next("0 0 31 nov sun", "2024-01-01T00:00:00.000Z")).toBe("2024-11-03T00:00:00.000Z");
  });

  it("fires hourly with @hourly", () => {
    expect(next("@hourly", "2024-01-01T10:59:59.999Z")).toBe("2024-01-01T11:00:00.000Z");
    expect(next("@hourly", "2024-01-01T11:00:00.000Z")).toBe("2024-01-01T12:00:00.000Z");
    expect(next("@hourly", "2024-12-31T23:30:00.000Z")).toBe("2025-01-01T00:00:00.000Z");
  });

  it("rolls over the year", () => {
    expect(next("@yearly", "2024-06-01T00:00:00.000Z")).toBe("2025-01-01T00:00:00.000Z");
    expect(next("59 23 31 12 *", "2024-12-31T23:59:00.000Z")).toBe("2025-12-31T23:59:00.000Z");
  });

  it("throws CronNoMatchError for dates that never occur", () => {
    for (const expression of ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "* * 31 2 * *"]) {
      const schedule = parseCron(expression);
      const after = ms("2024-01-01T00:00:00.000Z");
      expect(() => nextCronTime(schedule, after)).toThrow(
        expect.objectContaining({ name: "CronNoMatchError", expression, afterMs: after }),
      );
      expect(() => nextCronTime(schedule, after)).toThrow(CronNoMatchError);
      expect(() => nextCronTime(schedule, after)).toThrow(
        `has no fire time within ${MAX_CRON_SEARCH_YEARS} years after 2024-01-01T00:00:00.000Z`,
      );
    }
  });

  it("rejects an afterMs that is not a date", () => {
    const schedule = parseCron("* * * * *");
    expect(() => nextCronTime(schedule, Number.NaN)).toThrow(RangeError);
    expect(() => nextCronTime(schedule, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("works before 1970", () => {
    expect(next("0 0 1 1 *", "1969-12-31T12:00:00.000Z")).toBe("1970-01-01T00:00:00.000Z");
  });

  it("agrees with a minute-by-minute scan", () => {
    const expressions = [
      "*/7 3-5 * * *",
      "0 9 * * 1-5",
      "15 10 13 * fri",
      "0 */6 L * *",
      "0 0 1-31 * 1",
      "45 23 * feb,mar sun",
      "0 12 29-31 * *",
    ];
    const from = ms("2024-01-20T00:00:00.000Z");
    const to = ms("2024-04-20T00:00:00.000Z");
    for (const expression of expressions) {
      const schedule = parseCron(expression);
      const scanned: string[] = [];
      for (let t = from + 60_000; t <= to; t += 60_000) {
        if (matchesMinute(schedule, t)) scanned.push(iso(t));
      }
      const searched: string[] = [];
      for (let t = nextCronTime(schedule, from); t <= to; t = nextCronTime(schedule, t)) {
        searched.push(iso(t));
      }
      expect(searched, expression).toEqual(scanned);
      expect(searched.length, expression).toBeGreaterThan(0);
    }
  });

  it("answers far-off and impossible schedules quickly", () => {
    const started = performance.now();
    const impossible = parseCron("* * 30 2 * *");
    for (let i = 0; i < 50; i += 1) {
      expect(() => nextCronTime(impossible, 0)).toThrow(CronNoMatchError);
    }
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

/** Independent reference: does this whole minute match, by the plain cron definition? */
function matchesMinute(schedule: CronSchedule, epochMs: number): boolean {
  const date = new Date(epochMs);
  const day = date.getUTCDate();
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  const byMonth =
    schedule.daysOfMonth.includes(day) || (schedule.lastDayOfMonth && day === lastDay);
  const byWeek = schedule.daysOfWeek.includes(date.getUTCDay());
  const dayOk = schedule.dayMatching === "or" ? byMonth || byWeek : byMonth && byWeek;
  return (
    dayOk &&
    schedule.seconds.includes(0) &&
    schedule.minutes.includes(date.getUTCMinutes()) &&
    schedule.hours.includes(date.getUTCHours()) &&
    schedule.months.includes(date.getUTCMonth() + 1)
  );
}
