import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";

import { BaseNode, type NodeResult } from "./base-node.js";
import type { NodeClass } from "./node-definition.js";

describe("BaseNode types", () => {
  it("types inputs as string lookups without type arguments", () => {
    class SampleNode extends BaseNode {
      static Inputs = z.object({ name: z.string(), data: z.string() });
      static Outputs = z.object({ message: z.string(), processed_data: z.string() });
      async execute() {
        return { message: "success", processed_data: `completed:${this.inputs.data}` };
      }
    }
    expectTypeOf<SampleNode["inputs"]>().toEqualTypeOf<{ [k: string]: string }>();
    expectTypeOf(SampleNode).toExtend<NodeClass>();
  });

  it("types inputs, secrets and outputs from type arguments", () => {
    const Inputs = z.object({ url: z.string() });
    const Outputs = z.object({ body: z.string() });
    const Secrets = z.object({ token: z.string() });
    class Fetcher extends BaseNode<typeof Inputs, typeof Outputs, typeof Secrets> {
      static Inputs = Inputs;
      static Outputs = Outputs;
      static Secrets = Secrets;
      async execute() {
        return [{ body: this.inputs.url + this.secrets.token }];
      }
    }
    expectTypeOf<Fetcher["inputs"]>().toEqualTypeOf<{ url: string }>();
    expectTypeOf<Fetcher["secrets"]>().toEqualTypeOf<{ token: string }>();
    expectTypeOf<NodeResult<typeof Outputs>>().toExtend<
      { body: string } | { body: string }[] | null | undefined | void
    >();
    expectTypeOf(Fetcher).toExtend<NodeClass>();
  });

  it("accepts strict and loose zod objects as schemas", () => {
    class Strict extends BaseNode {
      static Inputs = z.strictObject({ a: z.string() });
      static Outputs = z.looseObject({ b: z.string() });
      async execute() {
        return { b: this.inputs.a ?? "" };
      }
    }
    expectTypeOf(Strict).toExtend<NodeClass>();
  });

  it("does not accept the abstract BaseNode as a node class", () => {
    expectTypeOf(BaseNode).not.toExtend<NodeClass>();
  });

  it("lets a node be unit-tested by setting its inputs", async () => {
    class Upper extends BaseNode {
      static Inputs = z.object({ text: z.string() });
      static Outputs = z.object({ text: z.string() });
      async execute() {
        return { text: (this.inputs.text ?? "").toUpperCase() };
      }
    }
    const node = new Upper();
    node.inputs = { text: "hi" };
    await expect(node.execute()).resolves.toEqual({ text: "HI" });
  });
});
