import { describe, expect, it } from "vitest";
import {
  formatRef,
  parseTemplate,
  renderTemplate,
  type TemplateRef,
  templateRefs,
  TemplateSyntaxError,
} from "./template.js";

const values: Record<string, string> = {
  "output:a:x": "AX",
  "output:b:y": "BY",
  "store:k": "K",
  "store:cursor": "42",
};
const resolve = (ref: TemplateRef): string => {
  const key = ref.kind === "store" ? `store:${ref.key}` : `output:${ref.identifier}:${ref.field}`;
  const v = values[key];
  if (v === undefined) throw new Error(`unresolved ${key}`);
  return v;
};
const render = (text: string) => renderTemplate(parseTemplate(text), resolve);

describe("parseTemplate (contract §5)", () => {
  it("a string without placeholders is one literal head", () => {
    expect(parseTemplate("hello world")).toEqual({ head: "hello world", parts: [] });
    expect(parseTemplate("")).toEqual({ head: "", parts: [] });
    // A stray "}}" or "${" alone is literal text.
    expect(parseTemplate("a }} b ${ c } $")).toEqual({ head: "a }} b ${ c } $", parts: [] });
  });

  it("parses an output placeholder with head and tail", () => {
    expect(parseTemplate("pre ${{ a.outputs.x }} post")).toEqual({
      head: "pre ",
      parts: [{ ref: { kind: "output", identifier: "a", field: "x" }, tail: " post" }],
    });
  });

  it("whitespace inside the braces is optional and trimmed around every part", () => {
    const expectedRef = { kind: "output", identifier: "a", field: "x" };
    for (const text of [
      "${{a.outputs.x}}",
      "${{ a.outputs.x }}",
      "${{   a . outputs .  x\t}}",
      "${{\na.outputs.x\n}}",
    ]) {
      expect(templateRefs(parseTemplate(text)), text).toEqual([expectedRef]);
    }
    // Whitespace outside the braces belongs to the literals.
    expect(parseTemplate("  ${{a.outputs.x}}  ")).toMatchObject({
      head: "  ",
      parts: [{ tail: "  " }],
    });
  });

  it("parses store placeholders, including the 3-part store.outputs.k form", () => {
    expect(templateRefs(parseTemplate("${{ store.k }}"))).toEqual([{ kind: "store", key: "k" }]);
    expect(templateRefs(parseTemplate("${{store.k}}"))).toEqual([{ kind: "store", key: "k" }]);
    expect(templateRefs(parseTemplate("${{ store.outputs.k }}"))).toEqual([
      { kind: "store", key: "k" },
    ]);
  });

  it("keeps several placeholders in order, repeats included", () => {
    const parsed = parseTemplate("${{ a.outputs.x }}-${{ store.k }}-${{ a.outputs.x }}!");
    expect(parsed.head).toBe("");
    expect(parsed.parts.map((p) => p.tail)).toEqual(["-", "-", "!"]);
    expect(templateRefs(parsed)).toEqual([
      { kind: "output", identifier: "a", field: "x" },
      { kind: "store", key: "k" },
      { kind: "output", identifier: "a", field: "x" },
    ]);
  });

  it("has no escape for a literal ${{: a preceding $ stays in the head", () => {
    const parsed = parseTemplate("$${{ store.k }}");
    expect(parsed.head).toBe("$");
    expect(templateRefs(parsed)).toEqual([{ kind: "store", key: "k" }]);
  });

  it("the tail is everything after the first }} (later }} are literal)", () => {
    expect(parseTemplate("${{ store.k }} }} x")).toMatchObject({ parts: [{ tail: " }} x" }] });
  });

  it("rejects an unclosed placeholder", () => {
    for (const text of [
      "${{ a.outputs.x",
      "ok ${{ store.k }} then ${{ store.k",
      "${{",
      "${{ store.k }",
      "${{ a ${{ store.k }}",
    ]) {
      expect(() => parseTemplate(text), text).toThrow(TemplateSyntaxError);
      expect(() => parseTemplate(text), text).toThrow(/not closed/);
    }
  });

  it("rejects placeholders that are neither X.outputs.f nor store.k", () => {
    const bad = [
      "${{ }}",
      "${{ a }}",
      "${{ a.b }}",
      "${{ a.inputs.x }}",
      "${{ a.outputs }}",
      "${{ a.outputs.x.y }}",
      "${{ store }}",
      "${{ store.a.b }}",
      "${{ store. }}",
      "${{ .outputs.x }}",
      "${{ a.outputs. }}",
      "${{ store.outputs. }}",
      "text ${{ a.output.x }} text",
    ];
    for (const text of bad) {
      expect(() => parseTemplate(text), text).toThrow(TemplateSyntaxError);
    }
  });

  it("names the offending template in the error", () => {
    expect(() => parseTemplate("x ${{ a.b }}")).toThrow(/a\.b/);
  });
});

describe("renderTemplate (contract §5)", () => {
  it("renders head + value + tail for each placeholder", () => {
    expect(render("pre ${{ a.outputs.x }} mid ${{ b.outputs.y }} post")).toBe("pre AX mid BY post");
    expect(render("${{store.k}}${{ store.outputs.cursor }}")).toBe("K42");
    expect(render("${{ a.outputs.x }}/${{ a.outputs.x }}")).toBe("AX/AX");
    expect(render("no placeholders")).toBe("no placeholders");
    expect(render("")).toBe("");
  });

  it("passes the resolver's error through for an unresolved placeholder", () => {
    expect(() => render("${{ c.outputs.z }}")).toThrow(/unresolved output:c:z/);
    expect(() => render("${{ store.missing }}")).toThrow(/unresolved store:missing/);
  });

  it("does not re-parse resolved values", () => {
    const parsed = parseTemplate("${{ store.k }}");
    expect(renderTemplate(parsed, () => "${{ a.outputs.x }}")).toBe("${{ a.outputs.x }}");
  });

  it("formatRef writes a placeholder back", () => {
    expect(formatRef({ kind: "store", key: "k" })).toBe("${{ store.k }}");
    expect(formatRef({ kind: "output", identifier: "a", field: "x" })).toBe("${{ a.outputs.x }}");
    for (const ref of templateRefs(parseTemplate("${{ a.outputs.x }}${{ store.k }}"))) {
      expect(templateRefs(parseTemplate(formatRef(ref)))).toEqual([ref]);
    }
  });
});
