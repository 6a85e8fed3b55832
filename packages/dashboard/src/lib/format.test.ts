import { describe, expect, it } from "vitest";

import { formatCount, formatDuration, formatRelative } from "./format";

describe("format", () => {
  it("groups thousands", () => {
    expect(formatCount(9873)).toBe("9,873");
    expect(formatCount(10000)).toBe("10,000");
  });

  it("writes durations at a sensible unit", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_345)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
    expect(formatDuration(7_380_000)).toBe("2 h 03 min");
    expect(formatDuration(-1)).toBe("–");
  });

  it("says past and future", () => {
    expect(formatRelative(5_000, 0)).toBe("in 5.0 s");
    expect(formatRelative(0, 5_000)).toBe("5.0 s ago");
  });
});
