import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";

import {
  BaseNode,
  defineNode,
  type NodeClass,
  type NodeContext,
  type RunStore,
} from "../../src/index.js";

// Type tests: checked by tsc (vitest typecheck mode, see vitest.config.ts). A `@ts-expect-error`
// whose line compiles is itself an error, so each one fails the run if inference regresses.

const Inputs = z.object({ name: z.string(), data: z.string() });
const Outputs = z.object({ message: z.string(), processed_data: z.string() });
const Secrets = z.object({ token: z.string() });

describe("BaseNode.define", () => {
  it("types this.inputs and this.secrets from the schemas, with no repetition", () => {
    class SampleNode extends BaseNode.define({
      inputs: Inputs,
      outputs: Outputs,
      secrets: Secrets,
    }) {
      async execute() {
        expectTypeOf(this.inputs).toEqualTypeOf<{ name: string; data: string }>();
        expectTypeOf(this.secrets).toEqualTypeOf<{ token: string }>();
        expectTypeOf(this.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(this.store).toEqualTypeOf<RunStore>();
        expectTypeOf(this.context).toEqualTypeOf<NodeContext>();
        // @ts-expect-error -- a typo in an input name is a compile error
        void this.inputs.nmae;
        // @ts-expect-error -- so is an undeclared secret
        void this.secrets.password;
        return { message: "success", processed_data: `completed:${this.inputs.data}` };
      }
    }
    expectTypeOf(SampleNode).toExtend<NodeClass>();
    expectTypeOf(SampleNode.Inputs).toEqualTypeOf(Inputs);
  });

  it("checks what execute() returns against the outputs schema", () => {
    class FanOut extends BaseNode.define({ inputs: Inputs, outputs: Outputs }) {
      async execute() {
        return [{ message: "a", processed_data: this.inputs.data }];
      }
    }
    class Nothing extends BaseNode.define({ outputs: Outputs }) {
      async execute() {
        return null;
      }
    }
    class WrongType extends BaseNode.define({ outputs: Outputs }) {
      // @ts-expect-error -- a number where the schema says string
      async execute() {
        return { message: 1, processed_data: "x" };
      }
    }
    class MissingField extends BaseNode.define({ outputs: Outputs }) {
      // @ts-expect-error -- processed_data is required
      async execute() {
        return { message: "x" };
      }
    }
    class MisspelledField extends BaseNode.define({ outputs: Outputs }) {
      // @ts-expect-error -- a misspelled output field is a missing one
      execute() {
        return [{ message: "x", processed_dta: "y" }];
      }
    }
    expectTypeOf(FanOut).toExtend<NodeClass>();
    expectTypeOf(Nothing).toExtend<NodeClass>();
    expectTypeOf<[WrongType, MissingField, MisspelledField]>().not.toBeAny();
  });

  it("defaults omitted schemas to empty objects", () => {
    class NoInputs extends BaseNode.define({}) {
      execute() {
        return null;
      }
    }
    expectTypeOf(NoInputs).toExtend<NodeClass>();
  });

  it("needs execute() before the class is a node", () => {
    abstract class Unfinished extends BaseNode.define({ inputs: Inputs }) {}
    expectTypeOf(Unfinished).not.toExtend<NodeClass>();
  });
});

describe("defineNode", () => {
  it("types the argument of execute from the schemas", () => {
    const Sample = defineNode({
      name: "Sample",
      inputs: Inputs,
      outputs: Outputs,
      secrets: Secrets,
      execute: async ({ inputs, secrets, signal, store, stateId }) => {
        expectTypeOf(inputs).toEqualTypeOf<{ name: string; data: string }>();
        expectTypeOf(secrets).toEqualTypeOf<{ token: string }>();
        expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(store.get).returns.resolves.toEqualTypeOf<string | undefined>();
        expectTypeOf(stateId).toEqualTypeOf<string>();
        return { message: inputs.name, processed_data: inputs.data };
      },
    });
    expectTypeOf(Sample).toExtend<NodeClass>();
    expectTypeOf(Sample.Outputs).toEqualTypeOf(Outputs);
  });

  it("rejects a typo in an input and a wrong output", () => {
    defineNode({
      name: "Typo",
      inputs: Inputs,
      outputs: Outputs,
      // @ts-expect-error -- nmae is not an input
      execute: ({ inputs }) => ({ message: inputs.nmae, processed_data: "" }),
    });
    defineNode({
      name: "Wrong",
      inputs: Inputs,
      outputs: Outputs,
      // @ts-expect-error -- processed_data is missing
      execute: async () => ({ message: "x" }),
    });
    defineNode({
      name: "FanOut",
      outputs: Outputs,
      execute: async () => [{ message: "a", processed_data: "b" }],
    });
  });
});

describe("the seeds' class style", () => {
  it("keeps working with static schemas", () => {
    class SampleNode extends BaseNode {
      static Inputs = z.object({ name: z.string(), data: z.string() });
      static Outputs = z.object({ message: z.string(), processed_data: z.string() });
      async execute() {
        return { message: "success", processed_data: `completed:${this.inputs.data}` };
      }
    }
    expectTypeOf(SampleNode).toExtend<NodeClass>();
    expectTypeOf<SampleNode["inputs"]>().toEqualTypeOf<{ [k: string]: string }>();
  });
});
