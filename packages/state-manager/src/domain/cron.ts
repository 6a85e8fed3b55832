/**
 * Cron expressions with the grammar of Python's croniter, evaluated in UTC.
 *
 * Pure: no clock, no I/O, no randomness. Time comes in and goes out as epoch milliseconds.
 *
 * Grammar: `minute hour day-of-month month day-of-week [second]` (seconds LAST, croniter
 * style), each field a comma list of `*`, `n`, `a-b`, and those with a step `/n` (where
 * `a/n` runs from a to the field's maximum). Month names `jan`-`dec` and day names
 * `sun`-`sat` (case-insensitive, in ranges too), day-of-week 0-7 with 0 and 7 both Sunday,
 * `?` as `*` in the two day fields, `L` (last day of the month) in day-of-month alone or as
 * a range end (`15-L`), and the aliases @yearly @annually @monthly @weekly @daily @midnight
 * @hourly.
 *
 * Rejected on purpose although croniter (6.2) accepts them, each with a message naming
 * the feature:
 * - a 7th (year) field;
 * - `R` random values (a schedule must be deterministic); `H` hashed values are rejected
 *   too, as croniter does when no hash id is given (the server never gives one);
 * - `#` (nth weekday, `fri#2`) and `L<n>` (last weekday, `L5`) in day-of-week;
 * - `W` (nearest weekday, `15W`) in day-of-month;
 * - wrap-around ranges such as `22-2` or `fri-mon` (older croniter rejected them too).
 *   Day-of-week ranges ending at Sunday (`fri-sun`, `5-0`) are accepted: croniter has
 *   always read them as ending at 7.
 *
 * Where croniter departs from classic cron we keep classic cron:
 * - `a-a` is the single value a, and `a/n` with a at the field's maximum (`23/10` in
 *   hours) is just a; croniter reads both as the whole cycle;
 * - 7 is Sunday with or without the seconds field (croniter rejects 7 when seconds are
 *   present) and day-of-month 0 is always out of range (croniter maps it to 1 then);
 * - with the OR rule, one impossible day field does not void the other: `0 0 31 nov sun`
 *   fires on Sundays in November, where croniter raises "failed to find next date";
 * - aliases may carry surrounding whitespace, which croniter refuses.
 */

/** A parsed expression. Plain data: every list is ascending and duplicate-free. */
export interface CronSchedule {
  /** The expression exactly as given to `parseCron`. */
  readonly expression: string;
  /** 0-59; `[0]` for 5-field expressions. */
  readonly seconds: readonly number[];
  /** 0-59. */
  readonly minutes: readonly number[];
  /** 0-23. */
  readonly hours: readonly number[];
  /** 1-31, without `L`. Days a month lacks never match. */
  readonly daysOfMonth: readonly number[];
  /** `L`: the last day of every month also matches. */
  readonly lastDayOfMonth: boolean;
  /** 1-12. */
  readonly months: readonly number[];
  /** 0-6, Sunday is 0 (a written 7 is folded into 0). */
  readonly daysOfWeek: readonly number[];
  /**
   * "or" when both day fields are restricted: a day matches when its day of month OR its
   * day of week matches (vixie cron, croniter's default). "and" otherwise, where the
   * unrestricted field lists every value.
   */
  readonly dayMatching: "and" | "or";
}

export class CronSyntaxError extends Error {
  override readonly name = "CronSyntaxError";
  /** What is wrong, without the `invalid cron expression "...": ` prefix. */
  readonly reason: string;

  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`invalid cron expression ${JSON.stringify(expression)}: ${reason}`);
    this.reason = reason;
  }
}

/** Thrown by `nextCronTime` when no instant matches within `MAX_CRON_SEARCH_YEARS`. */
export class CronNoMatchError extends Error {
  override readonly name = "CronNoMatchError";

  constructor(
    readonly expression: string,
    readonly afterMs: number,
  ) {
    super(
      `cron expression ${JSON.stringify(expression)} has no fire time within ` +
        `${MAX_CRON_SEARCH_YEARS} years after ${new Date(afterMs).toISOString()}`,
    );
  }
}

/**
 * croniter's default `max_years_between_matches`. It must exceed 8: February 29 can be
 * eight years apart (2096 to 2104), so a shorter bound would reject `0 0 29 2 *`.
 */
export const MAX_CRON_SEARCH_YEARS = 50;

export function validateCron(expression: string): string | null {
  try {
    parseCron(expression);
    return null;
  } catch (error) {
    if (error instanceof CronSyntaxError) return error.message;
    throw error;
  }
}

export function parseCron(expression: string): CronSchedule {
  try {
    return buildSchedule(expression, splitFields(expression));
  } catch (error) {
    if (error instanceof CronProblem) throw new CronSyntaxError(expression, error.message);
    throw error;
  }
}

/**
 * The first fire instant strictly after `afterMs`, in epoch ms (always a whole second).
 * Throws `CronNoMatchError` when nothing matches within `MAX_CRON_SEARCH_YEARS` (for example
 * `0 0 30 2 *`), like croniter's CroniterBadDateError; never returns NaN.
 */
export function nextCronTime(schedule: CronSchedule, afterMs: number): number {
  if (!Number.isFinite(afterMs) || Math.abs(afterMs) > MAX_DATE_MS) {
    throw new RangeError(`afterMs must be a valid epoch millisecond value, got ${afterMs}`);
  }
  // Second granularity for every form: with seconds [0], a 5-field expression lands on
  // the next whole minute exactly as croniter's minute rounding does.
  const start = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
  const lastYear = start.getUTCFullYear() + MAX_CRON_SEARCH_YEARS;
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let from: MonthPosition = {
    day: start.getUTCDate(),
    hour: start.getUTCHours(),
    minute: start.getUTCMinutes(),
    second: start.getUTCSeconds(),
  };
  while (year <= lastYear) {
    if (schedule.months.includes(month)) {
      const found = firstInMonth(schedule, year, month, from);
      if (found !== undefined && Math.abs(found) <= MAX_DATE_MS) return found;
    }
    from = START_OF_MONTH;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  throw new CronNoMatchError(schedule.expression, afterMs);
}

// ---------------------------------------------------------------------------------------
// Parsing

/** Internal: a reason without the expression prefix; `parseCron` wraps it. */
class CronProblem extends Error {}

type FieldName = "second" | "minute" | "hour" | "day-of-month" | "month" | "day-of-week";

interface FieldSpec {
  readonly name: FieldName;
  readonly min: number;
  /** Largest value that may be written (7 for day-of-week). */
  readonly max: number;
  /** Where `*` and `a/n` stop (6 for day-of-week, like croniter). */
  readonly openEnd: number;
  /** Names for min, min+1, ... */
  readonly names?: readonly string[];
}

const SECOND: FieldSpec = { name: "second", min: 0, max: 59, openEnd: 59 };
const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59, openEnd: 59 };
const HOUR: FieldSpec = { name: "hour", min: 0, max: 23, openEnd: 23 };
const DAY_OF_MONTH: FieldSpec = { name: "day-of-month", min: 1, max: 31, openEnd: 31 };
const MONTH: FieldSpec = {
  name: "month",
  min: 1,
  max: 12,
  openEnd: 12,
  names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
};
const DAY_OF_WEEK: FieldSpec = {
  name: "day-of-week",
  min: 0,
  max: 7,
  openEnd: 6,
  names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

const ALIASES: ReadonlyMap<string, string> = new Map([
  ["@yearly", "0 0 1 1 *"],
  ["@annually", "0 0 1 1 *"],
  ["@monthly", "0 0 1 * *"],
  ["@weekly", "0 0 * * 0"],
  ["@daily", "0 0 * * *"],
  ["@midnight", "0 0 * * *"],
  ["@hourly", "0 * * * *"],
]);

const DIGITS = /^[0-9]+$/;

interface ParsedField {
  readonly values: Set<number>;
  /** An item was `*` or `?`: the field is unrestricted whatever else is listed. */
  star: boolean;
  /** Day-of-month `L`. */
  lastDay: boolean;
}

function splitFields(expression: string): string[] {
  const trimmed = expression.trim();
  if (trimmed === "") throw new CronProblem("the expression is empty");
  if (trimmed.startsWith("@")) {
    const alias = ALIASES.get(trimmed.toLowerCase());
    if (alias === undefined) {
      const known = [...ALIASES.keys()].join(", ");
      throw new CronProblem(`unknown alias ${JSON.stringify(trimmed)} (known: ${known})`);
    }
    return alias.split(" ");
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronProblem(
      "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds " +
        `last), got ${fields.length}`,
    );
  }
  return fields;
}

function buildSchedule(expression: string, fields: readonly string[]): CronSchedule {
  const [minuteText = "", hourText = "", domText = "", monthText = "", dowText = ""] = fields;
  const secondText = fields[5];
  const dom = parseField(DAY_OF_MONTH, domText);
  const dow = parseField(DAY_OF_WEEK, dowText);
  if (dow.values.delete(7)) dow.values.add(0);
  return {
    expression,
    seconds: secondText === undefined ? [0] : sorted(parseField(SECOND, secondText)),
    minutes: sorted(parseField(MINUTE, minuteText)),
    hours: sorted(parseField(HOUR, hourText)),
    daysOfMonth: sorted(dom),
    lastDayOfMonth: dom.lastDay,
    months: sorted(parseField(MONTH, monthText)),
    daysOfWeek: sorted(dow),
    dayMatching:
      isOpen(dom, DAY_OF_MONTH, dowText) || isOpen(dow, DAY_OF_WEEK, domText) ? "and" : "or",
  };
}

/**
 * croniter's rule: a day field is unrestricted when written as `*`/`?`, or when it lists
 * every value and the other day field's text contains a `*` (so `1-31` beside `mon` stays
 * restricted and the OR rule makes every day match).
 */
function isOpen(field: ParsedField, spec: FieldSpec, otherText: string): boolean {
  const full = field.values.size === spec.openEnd - spec.min + 1;
  return field.star || (full && otherText.includes("*"));
}

function sorted(field: ParsedField): number[] {
  return [...field.values].sort((a, b) => a - b);
}

function parseField(spec: FieldSpec, text: string): ParsedField {
  const field: ParsedField = { values: new Set(), star: false, lastDay: false };
  if (text.includes("?")) {
    if (spec !== DAY_OF_MONTH && spec !== DAY_OF_WEEK) {
      throw new CronProblem(
        `"?" is only allowed in day-of-month and day-of-week, not in the ${spec.name} field`,
      );
    }
    if (text !== "?") {
      throw new CronProblem(`${spec.name} "${text}": "?" must stand alone in its field`);
    }
    addStar(spec, field);
    return field;
  }
  for (const item of text.split(",")) {
    if (item === "") {
      throw new CronProblem(`${spec.name} field "${text}" has an empty list item`);
    }
    parseItem(spec, item, field);
  }
  return field;
}

function addStar(spec: FieldSpec, field: ParsedField): void {
  field.star = true;
  addRange(field, spec.min, spec.openEnd, 1);
}

function parseItem(spec: FieldSpec, item: string, field: ParsedField): void {
  const unsupported = unsupportedFeature(spec, item.toLowerCase());
  if (unsupported !== undefined) throw new CronProblem(`${spec.name} "${item}": ${unsupported}`);
  if (item === "*") {
    addStar(spec, field);
    return;
  }
  const slash = item.indexOf("/");
  const rangeText = slash === -1 ? item : item.slice(0, slash);
  const step = slash === -1 ? 1 : parseStep(spec, item, item.slice(slash + 1));
  if (rangeText === "*") {
    addRange(field, spec.min, spec.openEnd, step);
    return;
  }
  if (spec === DAY_OF_MONTH && rangeText.toLowerCase() === "l") {
    if (slash !== -1) throw new CronProblem(`day-of-month "${item}": "L" cannot take a step`);
    field.lastDay = true;
    return;
  }
  if (rangeText.startsWith("-")) {
    throw new CronProblem(`${spec.name} "${item}": negative numbers are not allowed`);
  }
  const dash = rangeText.indexOf("-");
  if (dash === -1) {
    const value = parseValue(spec, rangeText);
    const [start, end] = slash === -1 ? [value, value] : foldSunday(spec, value, spec.openEnd);
    addRange(field, start, end, step);
    return;
  }
  const [start, end] = parseRange(spec, item, rangeText.slice(0, dash), rangeText.slice(dash + 1));
  addRange(field, start, end, step);
}

function unsupportedFeature(spec: FieldSpec, lowerItem: string): string | undefined {
  if (/^r(\(\d+-\d+\))?(\/\d+)?$/.test(lowerItem)) return 'random "R" values are not supported';
  if (/^h(\(\d+-\d+\))?(\/\d+)?$/.test(lowerItem)) return 'hashed "H" values are not supported';
  if (lowerItem.includes("#")) return '"#" (nth weekday of the month) is not supported';
  if (spec === DAY_OF_WEEK && /^l\d*$|^\d+l$/.test(lowerItem)) {
    return '"L" (last weekday of the month) is not supported in day-of-week';
  }
  if (spec === DAY_OF_MONTH && /^(\d+|l)w$/.test(lowerItem)) {
    return '"W" (nearest weekday) is not supported';
  }
  if (spec !== DAY_OF_MONTH && lowerItem === "l") return '"L" is only supported in day-of-month';
  return undefined;
}

function parseStep(spec: FieldSpec, item: string, text: string): number {
  if (!DIGITS.test(text)) {
    throw new CronProblem(`${spec.name} step in "${item}" must be a whole number`);
  }
  const step = Number(text);
  if (step < 1) throw new CronProblem(`${spec.name} step in "${item}" must be at least 1`);
  return step;
}

function parseRange(
  spec: FieldSpec,
  item: string,
  startText: string,
  endText: string,
): [number, number] {
  if (endText === "" || endText.includes("-")) {
    throw new CronProblem(`${spec.name} "${item}" is not a valid range`);
  }
  const isLastDay = spec === DAY_OF_MONTH && endText.toLowerCase() === "l";
  const [start, end] = foldSunday(
    spec,
    parseValue(spec, startText),
    isLastDay ? DAY_OF_MONTH.max : parseValue(spec, endText),
  );
  if (start > end) {
    throw new CronProblem(
      `${spec.name} range "${item}" is reversed (${start} is after ${end}); ` +
        "wrap-around ranges are not supported",
    );
  }
  return [start, end];
}

/** Day-of-week ranges may end at Sunday as 0 (`fri-sun`) or start at Sunday as 7 (`7-2`). */
function foldSunday(spec: FieldSpec, start: number, end: number): [number, number] {
  if (spec !== DAY_OF_WEEK) return [start, end];
  if (end === 0 && start > 0) return [start, 7];
  if (start === 7 && end < 7) return [0, end];
  return [start, end];
}

function parseValue(spec: FieldSpec, text: string): number {
  if (DIGITS.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      throw new CronProblem(`${spec.name} value ${text} is out of range ${spec.min}-${spec.max}`);
    }
    return value;
  }
  const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index !== -1) return spec.min + index;
  throw new CronProblem(describeBadValue(spec, text));
}

function describeBadValue(spec: FieldSpec, text: string): string {
  if (spec === DAY_OF_MONTH && text.toLowerCase() === "l") {
    return `day-of-month "L" may only stand alone or end a range (as in 15-L)`;
  }
  const names = spec.names;
  if (names === undefined) return `${spec.name} value "${text}" is not a number`;
  const kind = spec === MONTH ? "month" : "day";
  return (
    `${spec.name} value "${text}" is not a number or a ${kind} name ` +
    `(${names[0]}-${names[names.length - 1]})`
  );
}

function addRange(field: ParsedField, start: number, end: number, step: number): void {
  for (let value = start; value <= end; value += step) field.values.add(value);
}

// ---------------------------------------------------------------------------------------
// Searching

const MAX_DATE_MS = 8.64e15;

interface MonthPosition {
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const START_OF_MONTH: MonthPosition = { day: 1, hour: 0, minute: 0, second: 0 };
const MIDNIGHT: TimeOfDay = { hour: 0, minute: 0, second: 0 };

/** The first match in this month at or after `from`, as epoch ms. */
function firstInMonth(
  schedule: CronSchedule,
  year: number,
  month: number,
  from: MonthPosition,
): number | undefined {
  const length = daysInMonth(year, month);
  const firstWeekday = new Date(utcMs(year, month, 1, MIDNIGHT)).getUTCDay();
  for (let day = from.day; day <= length; day += 1) {
    const weekday = (firstWeekday + day - 1) % 7;
    if (!dayMatches(schedule, day, weekday, length)) continue;
    const time = firstTimeOfDay(schedule, day === from.day ? from : MIDNIGHT);
    if (time !== undefined) return utcMs(year, month, day, time);
  }
  return undefined;
}

function dayMatches(schedule: CronSchedule, day: number, weekday: number, length: number): boolean {
  const byMonth = schedule.daysOfMonth.includes(day) || (schedule.lastDayOfMonth && day === length);
  const byWeek = schedule.daysOfWeek.includes(weekday);
  return schedule.dayMatching === "or" ? byMonth || byWeek : byMonth && byWeek;
}

/** The first scheduled time of day at or after `from`, or undefined if the day is over. */
function firstTimeOfDay(schedule: CronSchedule, from: TimeOfDay): TimeOfDay | undefined {
  for (const hour of schedule.hours) {
    if (hour < from.hour) continue;
    const minuteFloor = hour === from.hour ? from.minute : 0;
    for (const minute of schedule.minutes) {
      if (minute < minuteFloor) continue;
      const secondFloor = hour === from.hour && minute === from.minute ? from.second : 0;
      const second = schedule.seconds.find((candidate) => candidate >= secondFloor);
      if (second !== undefined) return { hour, minute, second };
    }
  }
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function utcMs(year: number, month: number, day: number, time: TimeOfDay): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(time.hour, time.minute, time.second, 0);
  return date.getTime();
}
