import { describe, expect, it } from "vitest";

import { compiledNode, compileGraph, nodeTemplate } from "../../test/helpers/graphs.js";
import { InvalidTriggerInputError, MissingStoreKeysError } from "./errors.js";
import type { StoreConfig } from "./graph.js";
import { renderRootInputs, type TriggerRequest } from "./trigger.js";

/** The root of a one-node graph with these input templates, under `storeConfig`. */
function rootWith(inputs: Record<string, string>, storeConfig: StoreConfig) {
  return compiledNode(compileGraph([nodeTemplate("root", { inputs })], storeConfig), "root");
}

function render(
  inputs: Record<string, string>,
  storeConfig: Partial<StoreConfig>,
  request: Partial<TriggerRequest>,
): Record<string, string> {
  const config = { required_keys: [], default_values: {}, ...storeConfig };
  return renderRootInputs(rootWith(inputs, config), config, {
    inputs: {},
    store: {},
    ...request,
  });
}

/** The error `fn` throws (failing the test if it throws none). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}

describe("renderRootInputs", () => {
  describe("input values", () => {
    it("takes the template's value for an input the caller does not give", () => {
      expect(render({ a: "from template", b: "also" }, {}, {})).toEqual({
        a: "from template",
        b: "also",
      });
    });

    it("lets the caller's value override the template's, and drops inputs the template lacks", () => {
      expect(
        render({ a: "template a", b: "template b" }, {}, { inputs: { a: "caller a", extra: "x" } }),
      ).toEqual({ a: "caller a", b: "template b" });
    });

    it("renders store placeholders in a caller's value too", () => {
      expect(
        render({ a: "unused" }, {}, { inputs: { a: "id=${{ store.id }}" }, store: { id: "7" } }),
      ).toEqual({ a: "id=7" });
    });
  });

  describe("store placeholders", () => {
    it("resolve from the trigger's store first, then the graph's defaults", () => {
      expect(
        render(
          {
            both: "${{ store.k }}",
            fallback: "${{ store.d }}",
            mixed: "${{ store.k }}-${{ store.d }}",
          },
          { default_values: { k: "default k", d: "default d" } },
          { store: { k: "trigger k" } },
        ),
      ).toEqual({ both: "trigger k", fallback: "default d", mixed: "trigger k-default d" });
    });

    it("without a value in the trigger's store or the defaults are an InvalidTriggerInputError", () => {
      const err = thrownBy(() => render({ a: "x" }, {}, { inputs: { a: "${{ store.nope }}" } }));
      expect(err).toBeInstanceOf(InvalidTriggerInputError);
      expect((err as Error).message).toBe(
        'Invalid input: store key "nope" used by input "a" has no value',
      );
    });
  });

  describe("rejects with InvalidTriggerInputError", () => {
    it("a placeholder other than a store one", () => {
      const err = thrownBy(() =>
        render({ a: "x" }, {}, { inputs: { a: "${{ other.outputs.field }}" } }),
      );
      expect(err).toBeInstanceOf(InvalidTriggerInputError);
      expect((err as Error).message).toBe(
        'Invalid input: input "a" of the root node may only use store placeholders',
      );
    });

    it("a value with a template syntax error", () => {
      const err = thrownBy(() => render({ a: "x" }, {}, { inputs: { a: "${{ store.k" } }));
      expect(err).toBeInstanceOf(InvalidTriggerInputError);
      expect((err as Error).message).toMatch(/^Invalid input: placeholder is not closed/);
    });
  });

  describe("required store keys", () => {
    it("missing from the trigger's store are a MissingStoreKeysError listing them sorted", () => {
      const err = thrownBy(() =>
        render(
          { a: "x" },
          { required_keys: ["zeta", "alpha", "mid"], default_values: { alpha: "a default" } },
          { store: { mid: "given" } },
        ),
      );
      expect(err).toBeInstanceOf(MissingStoreKeysError);
      // A default does not satisfy a required key.
      expect((err as MissingStoreKeysError).keys).toEqual(["alpha", "zeta"]);
    });

    it("all given let the inputs render", () => {
      expect(
        render({ a: "${{ store.k }}" }, { required_keys: ["k"] }, { store: { k: "v" } }),
      ).toEqual({ a: "v" });
    });
  });

  describe("keys named like Object.prototype members", () => {
    it("are inputs like any other", () => {
      expect(
        render(
          { constructor: "template", toString: "template" },
          {},
          { inputs: { toString: "caller" } },
        ),
      ).toEqual({ constructor: "template", toString: "caller" });
    });

    it("are store keys like any other: absent unless given", () => {
      const err = thrownBy(() =>
        render({ a: "x" }, {}, { inputs: { a: "${{ store.constructor }}" } }),
      );
      expect(err).toBeInstanceOf(InvalidTriggerInputError);
      expect(
        render({ a: "${{ store.constructor }}" }, { default_values: { constructor: "d" } }, {}),
      ).toEqual({ a: "d" });
    });

    it("are required keys like any other: missing unless given", () => {
      const err = thrownBy(() => render({ a: "x" }, { required_keys: ["constructor"] }, {}));
      expect((err as MissingStoreKeysError).keys).toEqual(["constructor"]);
    });
  });
});
