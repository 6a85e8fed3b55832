import { describe, expect, it } from "vitest";
import {
  computeRetryDelay,
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_DELAY_MS,
  RETRY_STRATEGIES,
  type RetryPolicy,
  type RetryStrategy,
} from "./retry.js";

const ALMOST_ONE = 0.9999999999999999; // the largest double below 1: Math.random() never returns 1
const RANDOMS = [0, 0.5, ALMOST_ONE] as const;

function policy(strategy: RetryStrategy, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    max_retries: 10,
    strategy,
    backoff_factor: 1000,
    exponent: 3,
    max_delay: null,
    ...overrides,
  };
}

/** The un-jittered base of contract §7 for retry number n: b·e^(n−1), b·n or b. */
function base(strategy: RetryStrategy, b: number, e: number, n: number): number {
  if (strategy.startsWith("EXPONENTIAL")) return b * e ** (n - 1);
  if (strategy.startsWith("LINEAR")) return b * n;
  return b;
}

/** [lowest, highest] delay of contract §7 for the strategy (U(x, y) is inclusive). */
function window(strategy: RetryStrategy, x: number): [number, number] {
  if (strategy.endsWith("FULL_JITTER")) return [0, x];
  if (strategy.endsWith("EQUAL_JITTER")) return [Math.floor(x / 2), x];
  return [x, x];
}

/** The exact value of contract §7 for a pinned U(0, 1) draw r. */
function expected(strategy: RetryStrategy, x: number, r: number): number {
  if (strategy.endsWith("FULL_JITTER")) return Math.floor(r * x);
  if (strategy.endsWith("EQUAL_JITTER")) return Math.floor(x / 2 + r * (x / 2));
  return x;
}

describe("computeRetryDelay (contract §7)", () => {
  it("knows exactly the nine strategies of the contract", () => {
    expect([...RETRY_STRATEGIES].sort()).toEqual(
      [
        "EXPONENTIAL",
        "EXPONENTIAL_FULL_JITTER",
        "EXPONENTIAL_EQUAL_JITTER",
        "LINEAR",
        "LINEAR_FULL_JITTER",
        "LINEAR_EQUAL_JITTER",
        "FIXED",
        "FIXED_FULL_JITTER",
        "FIXED_EQUAL_JITTER",
      ].sort(),
    );
  });

  for (const strategy of RETRY_STRATEGIES) {
    describe(strategy, () => {
      for (const r of RANDOMS) {
        it(`n = 1..4 with random pinned to ${r}: inside the window and equal to the formula`, () => {
          const p = policy(strategy);
          for (let n = 1; n <= 4; n++) {
            const x = base(strategy, p.backoff_factor, p.exponent, n);
            const [lo, hi] = window(strategy, x);
            const delay = computeRetryDelay(p, n, () => r);
            expect(Number.isInteger(delay), `n=${n}: integer`).toBe(true);
            expect(delay, `n=${n}: ≥ ${lo}`).toBeGreaterThanOrEqual(lo);
            expect(delay, `n=${n}: ≤ ${hi}`).toBeLessThanOrEqual(hi);
            expect(delay, `n=${n}`).toBe(expected(strategy, x, r));
          }
        });
      }
    });
  }

  it("spells out the concrete numbers for b=1000, e=3 at random 0.5", () => {
    const at = (s: RetryStrategy) =>
      [1, 2, 3, 4].map((n) => computeRetryDelay(policy(s), n, () => 0.5));
    expect(at("EXPONENTIAL")).toEqual([1000, 3000, 9000, 27000]);
    expect(at("EXPONENTIAL_FULL_JITTER")).toEqual([500, 1500, 4500, 13500]);
    expect(at("EXPONENTIAL_EQUAL_JITTER")).toEqual([750, 2250, 6750, 20250]);
    expect(at("LINEAR")).toEqual([1000, 2000, 3000, 4000]);
    expect(at("LINEAR_FULL_JITTER")).toEqual([500, 1000, 1500, 2000]);
    expect(at("LINEAR_EQUAL_JITTER")).toEqual([750, 1500, 2250, 3000]);
    expect(at("FIXED")).toEqual([1000, 1000, 1000, 1000]);
    expect(at("FIXED_FULL_JITTER")).toEqual([500, 500, 500, 500]);
    expect(at("FIXED_EQUAL_JITTER")).toEqual([750, 750, 750, 750]);
  });

  it("uses the documented defaults: 2000, 4000, 8000 ms", () => {
    expect([1, 2, 3].map((n) => computeRetryDelay(DEFAULT_RETRY_POLICY, n, () => 0.5))).toEqual([
      2000, 4000, 8000,
    ]);
  });

  it("stays inside the window for many random draws", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const strategy of RETRY_STRATEGIES) {
      const p = policy(strategy, { backoff_factor: 777, exponent: 2 });
      for (let n = 1; n <= 4; n++) {
        const [lo, hi] = window(strategy, base(strategy, 777, 2, n));
        for (let i = 0; i < 200; i++) {
          const d = computeRetryDelay(p, n, random);
          expect(d).toBeGreaterThanOrEqual(lo);
          expect(d).toBeLessThanOrEqual(hi);
        }
      }
    }
  });

  describe("max_delay", () => {
    it("caps every strategy", () => {
      for (const strategy of RETRY_STRATEGIES) {
        for (const r of RANDOMS) {
          for (let n = 1; n <= 4; n++) {
            const d = computeRetryDelay(policy(strategy, { max_delay: 1500 }), n, () => r);
            expect(d, `${strategy} n=${n} r=${r}`).toBeLessThanOrEqual(1500);
            const uncapped = computeRetryDelay(policy(strategy), n, () => r);
            expect(d, `${strategy} n=${n} r=${r}`).toBe(Math.min(uncapped, 1500));
          }
        }
      }
    });

    it("is applied after the jitter, not to the base before it", () => {
      // EQUAL_JITTER, b=1000, e=2, n=4: base 8000. r=0.5 → 4000 + 2000 = 6000, capped to 5000.
      // (Capping the base first would give 2500 + 1250 = 3750.)
      const equal = policy("EXPONENTIAL_EQUAL_JITTER", { exponent: 2, max_delay: 5000 });
      expect(computeRetryDelay(equal, 4, () => 0.5)).toBe(5000);
      // r=0 → 4000: below the cap, untouched.
      expect(computeRetryDelay(equal, 4, () => 0)).toBe(4000);
      // FULL_JITTER r≈1 → 7999, capped to 5000 (capping the base first would give 4999).
      const full = policy("EXPONENTIAL_FULL_JITTER", { exponent: 2, max_delay: 5000 });
      expect(computeRetryDelay(full, 4, () => ALMOST_ONE)).toBe(5000);
      expect(computeRetryDelay(full, 4, () => 0.25)).toBe(2000);
      // A cap above the value changes nothing.
      expect(computeRetryDelay(policy("LINEAR", { max_delay: 10_000 }), 4, () => 0)).toBe(4000);
    });
  });

  describe("overflow", () => {
    const huge: [string, Partial<RetryPolicy>, number][] = [
      ["a huge exponent", { exponent: 1_000_000 }, 5],
      ["a huge retry number", { exponent: 2 }, 100_000],
      ["both", { exponent: 1_000_000, backoff_factor: 2_000_000_000 }, 1_000_000],
      ["a finite but enormous product", { exponent: 10, backoff_factor: 1000 }, 20],
    ];
    for (const [what, overrides, n] of huge) {
      it(`stays finite and ≤ MAX_RETRY_DELAY_MS with ${what}`, () => {
        for (const strategy of RETRY_STRATEGIES) {
          for (const r of RANDOMS) {
            const d = computeRetryDelay(policy(strategy, overrides), n, () => r);
            expect(Number.isFinite(d), `${strategy} r=${r}: ${d}`).toBe(true);
            expect(Number.isInteger(d), `${strategy} r=${r}: ${d}`).toBe(true);
            expect(d, `${strategy} r=${r}`).toBeGreaterThanOrEqual(0);
            expect(d, `${strategy} r=${r}`).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
            expect(Date.now() + d).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
          }
        }
      });
    }

    it("plain EXPONENTIAL overflowing hits exactly the ceiling", () => {
      expect(computeRetryDelay(policy("EXPONENTIAL", { exponent: 1_000_000 }), 5, () => 0)).toBe(
        MAX_RETRY_DELAY_MS,
      );
      expect(computeRetryDelay(policy("EXPONENTIAL", { exponent: 2 }), 5000, () => 0)).toBe(
        MAX_RETRY_DELAY_MS,
      );
    });

    it("still honours max_delay when the base overflows, whatever the random draw", () => {
      for (const strategy of RETRY_STRATEGIES.filter((s) => s.startsWith("EXPONENTIAL"))) {
        for (const r of RANDOMS) {
          const d = computeRetryDelay(
            policy(strategy, { exponent: 1_000_000, max_delay: 5000 }),
            100,
            () => r,
          );
          expect(d, `${strategy} r=${r}`).toBeLessThanOrEqual(5000);
        }
      }
    });

    it("a full jitter with random 0 is 0 even when the base overflows", () => {
      expect(
        computeRetryDelay(policy("EXPONENTIAL_FULL_JITTER", { exponent: 1_000_000 }), 100, () => 0),
      ).toBe(0);
    });
  });
});
