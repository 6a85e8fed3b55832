import { describe, expect, it } from "vitest";

import { PruneSignal, readSignal, ReQueueAfterSignal } from "./signals.js";

describe("PruneSignal", () => {
  it("carries its data and is recognised", () => {
    const signal = new PruneSignal({ reason: "low score" });
    expect(signal.name).toBe("PruneSignal");
    expect(readSignal(signal)).toEqual({ kind: "prune", data: { reason: "low score" } });
    expect(readSignal(new PruneSignal())).toEqual({ kind: "prune", data: {} });
  });
});

describe("ReQueueAfterSignal", () => {
  it("carries an integer delay and is recognised", () => {
    expect(readSignal(new ReQueueAfterSignal(1500))).toEqual({ kind: "requeue", delayMs: 1500 });
    expect(new ReQueueAfterSignal(0.2).delayMs).toBe(1);
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])("rejects a delay of %s", (delay) => {
    expect(() => new ReQueueAfterSignal(delay)).toThrow(/greater than 0/);
  });
});

describe("readSignal", () => {
  it("treats ordinary errors and non-errors as no signal", () => {
    expect(readSignal(new Error("boom"))).toEqual({ kind: "none" });
    expect(readSignal("boom")).toEqual({ kind: "none" });
    expect(readSignal(null)).toEqual({ kind: "none" });
    // Look-alikes by name only are not signals: only the branded classes are.
    expect(readSignal(Object.assign(new Error("x"), { name: "PruneSignal" }))).toEqual({
      kind: "none",
    });
  });

  it("recognises signals from another copy of the package by their registry symbol", () => {
    const foreign = Object.assign(new Error("x"), { delayMs: 10 });
    Object.defineProperty(foreign, Symbol.for("exospherehost.signal"), { value: "requeue" });
    expect(readSignal(foreign)).toEqual({ kind: "requeue", delayMs: 10 });
  });
});
