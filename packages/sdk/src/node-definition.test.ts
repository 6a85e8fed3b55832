import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "./base-node.js";
import { defineNode, defineNodes, toRegistration } from "./node-definition.js";

class SampleNode extends BaseNode {
  static Inputs = z.object({ name: z.string(), data: z.string() });
  static Outputs = z.object({ message: z.string(), processed_data: z.string() });
  async execute() {
    return { message: "success", processed_data: `completed:${this.inputs.data}` };
  }
}

function nodeWith(
  schemas: { Inputs?: unknown; Outputs?: unknown; Secrets?: unknown },
  name = "Custom",
): unknown {
  const cls = class extends BaseNode {
    async execute() {
      return null;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  Object.assign(cls, schemas);
  return cls;
}

function validationError(fn: () => unknown): {
  name: string;
  code: string;
  message: string;
  nodeName?: string;
  field?: string;
} {
  try {
    fn();
  } catch (err) {
    return err as {
      name: string;
      code: string;
      message: string;
      nodeName?: string;
      field?: string;
    };
  }
  throw new Error("expected a NodeValidationError");
}

describe("defineNode", () => {
  it("accepts the quick start node and names it after its class", () => {
    const definition = defineNode(SampleNode);
    expect(definition.name).toBe("SampleNode");
    expect(definition.secretNames).toEqual([]);
    expect(definition.inputsJsonSchema).toMatchObject({
      type: "object",
      properties: { name: { type: "string" }, data: { type: "string" } },
      required: ["name", "data"],
    });
  });

  it("uses static nodeName over the class name", () => {
    class Renamed extends SampleNode {
      static override nodeName = "PublicName";
    }
    expect(defineNode(Renamed).name).toBe("PublicName");
  });

  it("defaults missing schemas to empty objects", () => {
    const definition = defineNode(nodeWith({}, "Bare"));
    expect(Object.keys(definition.inputs.shape)).toEqual([]);
    expect(definition.secretNames).toEqual([]);
  });

  it("lists the Secrets field names for registration", () => {
    const definition = defineNode(
      nodeWith({ Secrets: z.object({ api_key: z.string(), db_url: z.string() }) }, "WithSecrets"),
    );
    expect(toRegistration(definition, "ns")).toEqual({
      name: "WithSecrets",
      namespace: "ns",
      inputs_schema: definition.inputsJsonSchema,
      outputs_schema: definition.outputsJsonSchema,
      secrets: ["api_key", "db_url"],
    });
  });

  it("accepts string fields with defaults and length checks", () => {
    const definition = defineNode(
      nodeWith({ Inputs: z.object({ a: z.string().default("x"), b: z.string().min(2) }) }),
    );
    expect(Object.keys(definition.inputs.shape)).toEqual(["a", "b"]);
  });

  it.each([
    ["a number", z.number(), "it is a number"],
    ["an optional string", z.string().optional(), "it is optional"],
    ["a nullable string", z.string().nullable(), "it is nullable"],
    ["an object", z.object({ x: z.string() }), "it is a object"],
    ["a string format", z.email(), 'string format "email"'],
  ])("rejects %s with a message naming the node and the field", (_label, field, reason) => {
    const err = validationError(() =>
      defineNode(nodeWith({ Outputs: z.object({ result: field }) }, "Typed")),
    );
    expect(err.name).toBe("NodeValidationError");
    expect(err.code).toBe("INVALID_NODE");
    expect(err.nodeName).toBe("Typed");
    expect(err.field).toBe("result");
    expect(err.message).toContain('Node "Typed"');
    expect(err.message).toContain('field "result" of Outputs');
    expect(err.message).toContain(reason);
  });

  it("rejects a schema that is not a zod object", () => {
    const err = validationError(() =>
      defineNode(nodeWith({ Inputs: { name: "string" } }, "Plain")),
    );
    expect(err.message).toContain('Node "Plain": static Inputs must be a zod v4 object');
  });

  it("rejects a class that does not extend BaseNode", () => {
    class NotANode {
      async execute() {
        return null;
      }
    }
    const err = validationError(() => defineNode(NotANode, 2));
    expect(err.message).toContain("nodes[2] (class NotANode) is not a subclass of BaseNode");
  });

  it("rejects BaseNode itself and non-functions", () => {
    expect(validationError(() => defineNode(BaseNode)).code).toBe("INVALID_NODE");
    expect(validationError(() => defineNode({ execute() {} })).message).toContain(
      "(object) is not a subclass",
    );
  });

  it("rejects an empty static nodeName", () => {
    class Blank extends SampleNode {
      static override nodeName = " ";
    }
    expect(validationError(() => defineNode(Blank)).message).toContain(
      "`static nodeName` that is not a non-empty string",
    );
  });

  it("accepts subclasses of subclasses", () => {
    class Child extends SampleNode {}
    expect(defineNode(Child).name).toBe("Child");
  });
});

describe("defineNodes", () => {
  it("rejects an empty list", () => {
    expect(validationError(() => defineNodes([])).message).toContain("at least one node class");
  });

  it("rejects two nodes with the same name", () => {
    class Twin extends SampleNode {
      static override nodeName = "SampleNode";
    }
    const err = validationError(() => defineNodes([SampleNode, Twin]));
    expect(err.message).toContain('Two node classes are named "SampleNode"');
  });

  it("keeps the order of the nodes", () => {
    class Other extends SampleNode {}
    expect(defineNodes([SampleNode, Other]).map((d) => d.name)).toEqual(["SampleNode", "Other"]);
  });
});
