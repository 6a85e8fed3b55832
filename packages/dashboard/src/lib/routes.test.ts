import { describe, expect, it } from "vitest";

import { hrefOf, parseRoute, type Route } from "./routes";

describe("routes", () => {
  const routes: Route[] = [
    { name: "home" },
    { name: "namespace", ns: "prod" },
    { name: "runs", ns: "prod" },
    { name: "run", ns: "prod", runId: "9b2c0000-0000-4000-8000-000000000000" },
    { name: "graph", ns: "my ns", graph: "a/b" },
    { name: "nodes", ns: "prod" },
  ];

  it.each(routes)("round-trips %o", (route) => {
    expect(parseRoute(hrefOf(route))).toEqual(route);
  });

  it("ignores a trailing slash and answers not-found for anything else", () => {
    expect(parseRoute("/ns/prod/runs/")).toEqual({ name: "runs", ns: "prod" });
    expect(parseRoute("/v0/namespaces")).toEqual({ name: "not-found", path: "/v0/namespaces" });
    expect(parseRoute("/ns/prod/graphs")).toMatchObject({ name: "not-found" });
    expect(parseRoute("/ns/prod/runs/x/y")).toMatchObject({ name: "not-found" });
  });
});
