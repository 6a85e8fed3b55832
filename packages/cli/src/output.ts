/** Human output (aligned tables, key/value blocks) and `--json` output of the commands. */

/** Where a command writes: stdout for results, stderr for errors and hints. */
export interface Output {
  /** Write a line (a newline is added) to stdout. */
  line(text?: string): void;
  /** Write raw text to stdout. */
  write(text: string): void;
  /** Write a line to stderr. */
  error(text: string): void;
  /** `value` as pretty JSON on stdout. */
  json(value: unknown): void;
  /** Whether stdout is a terminal (live redraws) or a pipe or file (plain lines). */
  readonly isTTY: boolean;
}

/** The writable side of a stream, as `process.stdout` is. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** An {@link Output} over two streams. */
export function createOutput(stdout: TextSink, stderr: TextSink): Output {
  return {
    line: (text = "") => stdout.write(`${text}\n`),
    write: (text) => stdout.write(text),
    error: (text) => stderr.write(`${text}\n`),
    json: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    isTTY: stdout.isTTY === true,
  };
}

/**
 * Rows under headers, each column as wide as its widest cell, two spaces apart. The last
 * column is not padded, so lines carry no trailing blanks.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const renderRow = (row: readonly string[]): string =>
    headers
      .map((_, column) => {
        const cell = row[column] ?? "";
        return column === headers.length - 1 ? cell : cell.padEnd(widths[column] ?? 0);
      })
      .join("  ")
      .trimEnd();
  return [renderRow(headers), ...rows.map(renderRow)].join("\n");
}

/** `Label:  value` lines with the values aligned. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join("\n");
}

/** An ISO time as `2026-12-02 10:00:00Z`, or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") {
    return "-";
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}
