import { describe, expect, it } from "vitest";

import { attributeErrors } from "./validation-errors";

describe("attributeErrors", () => {
  const nodes = [
    { identifier: "a", node_name: "Alpha" },
    { identifier: "b", node_name: "Beta" },
    { identifier: "b2", node_name: "Beta" },
  ];

  it("puts each error next to the node it names", () => {
    const { byIdentifier, general } = attributeErrors(
      [
        'node "a" input "x": ${{ store.k }} needs store key "k" in store_config.required_keys or store_config.default_values',
        'Node "b" (Beta): required input "y" is missing from the template\'s inputs.',
        "Node Beta in namespace ns does not exist.",
        'graph has a cycle through "q"',
      ],
      nodes,
    );
    expect(byIdentifier.get("a")).toHaveLength(1);
    expect(byIdentifier.get("b")).toHaveLength(2);
    expect(byIdentifier.get("b2")).toEqual(["Node Beta in namespace ns does not exist."]);
    expect(general).toEqual(['graph has a cycle through "q"']);
  });
});
