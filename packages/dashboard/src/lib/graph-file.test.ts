import { describe, expect, it } from "vitest";

import { parseGraphFile } from "./graph-file";

describe("parseGraphFile", () => {
  it("takes the HTTP body and renames its snake_case fields for the SDK", () => {
    const result = parseGraphFile(
      JSON.stringify({
        nodes: [],
        secrets: { token: "t" },
        retry_policy: { max_retries: 1 },
        store_config: { required_keys: ["k"] },
        validation_status: "VALID",
        version: 3,
      }),
    );
    expect(result).toEqual({
      ok: true,
      definition: {
        nodes: [],
        secrets: { token: "t" },
        retryPolicy: { max_retries: 1 },
        storeConfig: { required_keys: ["k"] },
      },
    });
  });

  it("refuses text that is not JSON, and secrets without values", () => {
    expect(parseGraphFile("{nodes:")).toMatchObject({ ok: false });
    expect(parseGraphFile('{"nodes": [], "secrets": {"token": true}}')).toMatchObject({
      ok: false,
      error: expect.stringContaining('"token"'),
    });
  });
});
