import { describe, expect, it } from "vitest";

import { backoffDelay, Notifier, sleep } from "./timing.js";

describe("backoffDelay", () => {
  const options = { baseMs: 200, maxMs: 10_000 };

  it("grows exponentially with equal jitter", () => {
    expect(backoffDelay(1, options, () => 0)).toBe(100);
    expect(backoffDelay(1, options, () => 1)).toBe(200);
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(3, options, () => 1)).toBe(800);
  });

  it("never exceeds the cap, even for huge attempt numbers", () => {
    expect(backoffDelay(1_000, options, () => 1)).toBe(10_000);
    expect(backoffDelay(1_000, options, () => 0)).toBe(5_000);
  });
});

describe("sleep", () => {
  it("ends early when its signal aborts", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("Notifier", () => {
  it("wakes every waiter once", async () => {
    const notifier = new Notifier();
    let woken = 0;
    const waits = [notifier.wait().then(() => woken++), notifier.wait().then(() => woken++)];
    notifier.notify();
    await Promise.all(waits);
    expect(woken).toBe(2);
  });
});
