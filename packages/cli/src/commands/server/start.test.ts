import { describe, expect, it } from "vitest";

import { databaseUrl } from "./start.js";

describe("databaseUrl", () => {
  it("turns a path into a sqlite URL of its absolute form", () => {
    expect(databaseUrl("data/exo.db", "/srv")).toBe("sqlite:///srv/data/exo.db");
    expect(databaseUrl("/var/exo.db", "/srv")).toBe("sqlite:///var/exo.db");
  });

  it("passes a URL on as it is", () => {
    expect(databaseUrl("postgres://u@h/db", "/srv")).toBe("postgres://u@h/db");
    expect(databaseUrl("sqlite://:memory:", "/srv")).toBe("sqlite://:memory:");
  });
});
