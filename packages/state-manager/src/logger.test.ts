import { Writable } from "node:stream";

import { describe, expect, it } from "vitest";

import { createLogger } from "./logger.js";

/** A destination that keeps what it was given, split into lines. */
function capture(): { stream: Writable; lines: () => string[] } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split("\n").filter((l) => l !== "") };
}

describe("createLogger", () => {
  it("pretty: one readable line per event, with time, level and message, fields inline", () => {
    const out = capture();
    const log = createLogger("info", out.stream, { format: "pretty", colorize: false });
    log.warn({ node: "Task", error: "boom\nsecond line" }, "node Task failed: boom");
    log.info("started");
    log.debug("hidden");
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: node Task failed: boom \{.*"node":"Task"/,
    );
    expect(lines[0]).not.toContain("service");
    expect(lines[1]).toMatch(/INFO: started$/);
  });

  it("pretty: colourised when asked", () => {
    const out = capture();
    createLogger("info", out.stream, { format: "pretty", colorize: true }).error("bad");
    expect(out.lines()[0]).toContain("\u001b[");
  });

  it("redacts secrets, bodies and the key header in both formats", () => {
    for (const format of ["pretty", "json"] as const) {
      const out = capture();
      const log = createLogger("info", out.stream, { format, colorize: false });
      log.info(
        {
          secrets: { token: "s3cret" },
          body: { password: "hunter2" },
          req: { method: "GET", url: "/v0/x?key=abc", headers: { "x-api-key": "k3y" } },
        },
        "request",
      );
      const text = out.lines().join("\n");
      expect(text, format).not.toMatch(/s3cret|hunter2|k3y|key=abc/);
      expect(text, format).toContain("[redacted]");
    }
  });

  it("json: JSON lines (the production format)", () => {
    const out = capture();
    createLogger("info", out.stream).info({ a: 1 }, "hello");
    expect(JSON.parse(out.lines()[0] as string)).toMatchObject({
      level: 30,
      msg: "hello",
      a: 1,
      service: "exosphere-state-manager",
    });
  });
});
