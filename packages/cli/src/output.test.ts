import { describe, expect, it } from "vitest";

import { formatTime, renderFields, renderTable } from "./output.js";

describe("renderTable", () => {
  it("aligns columns two spaces apart without trailing blanks", () => {
    expect(
      renderTable(
        ["A", "LONG HEADER"],
        [
          ["xyz", "1"],
          ["q", ""],
        ],
      ),
    ).toBe("A    LONG HEADER\nxyz  1\nq");
  });
});

describe("renderFields", () => {
  it("aligns the values after the longest label", () => {
    expect(
      renderFields([
        ["Run", "r"],
        ["Status", "OK"],
      ]),
    ).toBe("Run:     r\nStatus:  OK");
  });
});

describe("formatTime", () => {
  it("shows an ISO time to the second, and - for none", () => {
    expect(formatTime("2026-12-02T10:00:00.123Z")).toBe("2026-12-02 10:00:00Z");
    expect(formatTime(null)).toBe("-");
  });
});
