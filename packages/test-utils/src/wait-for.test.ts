import { describe, expect, it } from "vitest";

import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves with the first truthy value", async () => {
    let calls = 0;
    await expect(
      waitFor(() => (++calls >= 3 ? `done after ${calls}` : undefined), { intervalMs: 1 }),
    ).resolves.toBe("done after 3");
  });

  it("treats a throwing condition as not yet", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls < 2) {
          throw new Error("not ready");
        }
        return 42;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(42);
  });

  it("times out with the message and the last error", async () => {
    await expect(
      waitFor(
        () => {
          throw new Error("still booting");
        },
        { timeoutMs: 50, intervalMs: 10, message: "server up" },
      ),
    ).rejects.toThrow(/waitFor timed out after 50 ms: server up; last error: still booting/);
  });
});
