import { describe, expect, it } from "vitest";

import {
  ErrorCode,
  ExosphereError,
  formatDetail,
  GraphValidationError,
  isExosphereError,
  StateManagerError,
} from "./errors.js";

describe("StateManagerError", () => {
  it("carries status, code and detail and says which request failed", () => {
    const err = new StateManagerError({
      status: 404,
      code: "GRAPH_NOT_FOUND",
      detail: "Graph template g not found",
      method: "GET",
      path: "/v0/namespace/ns/graph/g",
    });
    expect(err).toMatchObject({
      name: "StateManagerError",
      status: 404,
      code: "GRAPH_NOT_FOUND",
      detail: "Graph template g not found",
    });
    expect(err.message).toBe(
      "GET /v0/namespace/ns/graph/g failed with 404 GRAPH_NOT_FOUND: Graph template g not found",
    );
  });
});

describe("formatDetail", () => {
  it("renders FastAPI-style field errors with their location", () => {
    const detail = [
      { type: "missing", loc: ["body", "nodes"], msg: "Field required" },
      { type: "string_type", loc: ["body", "inputs", "a"], msg: "Input should be a valid string" },
    ];
    expect(formatDetail(detail)).toBe(
      "body.nodes: Field required; body.inputs.a: Input should be a valid string",
    );
  });

  it("renders strings verbatim and other values as JSON", () => {
    expect(formatDetail("State not found")).toBe("State not found");
    expect(formatDetail({ a: 1 })).toBe('{"a":1}');
    expect(formatDetail(undefined)).toBe("(no detail)");
  });
});

describe("isExosphereError", () => {
  it("matches by code, not by class", () => {
    const foreign = Object.assign(new Error("from another copy"), {
      code: ErrorCode.GRAPH_INVALID,
    });
    expect(isExosphereError(foreign)).toBe(true);
    expect(isExosphereError(foreign, "GRAPH_INVALID")).toBe(true);
    expect(isExosphereError(foreign, "MISSING_CONFIG")).toBe(false);
    expect(isExosphereError(new Error("plain"))).toBe(false);
    expect(isExosphereError({ code: "X" })).toBe(false);
  });

  it("recognises every SDK error", () => {
    expect(isExosphereError(new ExosphereError("X", "y"), "X")).toBe(true);
    const invalid = new GraphValidationError("g", ["Node A in namespace ns does not exist."]);
    expect(isExosphereError(invalid, ErrorCode.GRAPH_INVALID)).toBe(true);
    expect(invalid.message).toContain("Node A in namespace ns does not exist.");
  });
});
