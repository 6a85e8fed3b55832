import { describe, expect, it } from "vitest";

import { keyValues, parseOptions, positiveInt } from "./parse.js";
import { z } from "zod";

describe("keyValues", () => {
  it("splits at the first = and keeps the last value of a repeated key", () => {
    expect(keyValues.parse(["a=1", "b=x=y", "a=2", "c="])).toEqual({ a: "2", b: "x=y", c: "" });
  });

  it("refuses a pair without a key", () => {
    expect(keyValues.safeParse(["=1"]).success).toBe(false);
    expect(keyValues.safeParse(["novalue"]).success).toBe(false);
  });
});

describe("parseOptions", () => {
  it("names the option in kebab case", () => {
    expect(() =>
      parseOptions(z.object({ startDelay: positiveInt }), { startDelay: "soon" }),
    ).toThrow("--start-delay: must be a whole number");
  });
});
