/**
 * The input template language of contract §5: literal text with `${{ X.outputs.f }}` and
 * `${{ store.k }}` placeholders. Parsing reproduces the reference algorithm exactly.
 */

export type TemplateRef =
  | { readonly kind: "output"; readonly identifier: string; readonly field: string }
  | { readonly kind: "store"; readonly key: string };

export interface ParsedTemplate {
  readonly head: string;
  readonly parts: readonly { readonly ref: TemplateRef; readonly tail: string }[];
}

export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateSyntaxError";
  }
}

export function parseTemplate(text: string): ParsedTemplate {
  const pieces = text.split("${{");
  const head = pieces[0] ?? "";
  const parts: { ref: TemplateRef; tail: string }[] = [];
  for (const piece of pieces.slice(1)) {
    const close = piece.indexOf("}}");
    if (close === -1) {
      throw new TemplateSyntaxError(
        `placeholder is not closed with "}}" in ${JSON.stringify(text)}`,
      );
    }
    const body = piece.slice(0, close);
    parts.push({ ref: parseRef(body, text), tail: piece.slice(close + 2) });
  }
  return { head, parts };
}

function parseRef(body: string, text: string): TemplateRef {
  const segments = body.split(".").map((s) => s.trim());
  if (segments.length === 3 && segments[1] === "outputs") {
    const [identifier = "", , field = ""] = segments;
    if (identifier === "store") {
      if (field === "") throw new TemplateSyntaxError(`empty store key in ${JSON.stringify(text)}`);
      return { kind: "store", key: field };
    }
    if (identifier === "" || field === "") {
      throw new TemplateSyntaxError(
        `empty identifier or field in "\${{${body}}}" of ${JSON.stringify(text)}`,
      );
    }
    return { kind: "output", identifier, field };
  }
  if (segments.length === 2 && segments[0] === "store") {
    const key = segments[1] ?? "";
    if (key === "") throw new TemplateSyntaxError(`empty store key in ${JSON.stringify(text)}`);
    return { kind: "store", key };
  }
  throw new TemplateSyntaxError(
    `invalid placeholder "\${{${body}}}" in ${JSON.stringify(text)}: expected \${{ <identifier>.outputs.<field> }} or \${{ store.<key> }}`,
  );
}

export function templateRefs(template: ParsedTemplate): TemplateRef[] {
  return template.parts.map((p) => p.ref);
}

/** Resolves one placeholder to its string value, or throws a message saying why it cannot. */
export type RefResolver = (ref: TemplateRef) => string;

export function renderTemplate(template: ParsedTemplate, resolve: RefResolver): string {
  let out = template.head;
  for (const part of template.parts) out += resolve(part.ref) + part.tail;
  return out;
}

export function formatRef(ref: TemplateRef): string {
  return ref.kind === "store"
    ? `\${{ store.${ref.key} }}`
    : `\${{ ${ref.identifier}.outputs.${ref.field} }}`;
}
