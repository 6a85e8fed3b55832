/**
 * A left-to-right layered layout of a graph template's DAG (nodes are identifiers, edges are
 * `next_nodes`; unites are drawn as extra edges but do not move nodes). Graph templates have tens
 * of nodes, so a longest-path layering plus one barycentre pass is plenty; no layout library.
 */
export interface LayoutInput {
  readonly id: string;
  readonly next: readonly string[];
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export const LAYER_GAP = 280;
export const ROW_GAP = 130;

export function layoutDag(nodes: readonly LayoutInput[]): Map<string, Point> {
  const ids = new Set(nodes.map((n) => n.id));
  const parents = new Map<string, string[]>();
  for (const n of nodes) parents.set(n.id, []);
  for (const n of nodes) {
    for (const next of n.next) if (ids.has(next)) parents.get(next)?.push(n.id);
  }
  // Longest path from a root; a cycle (an invalid template) is cut where it is found.
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const ps = parents.get(id) ?? [];
    const value = ps.length === 0 ? 0 : Math.max(...ps.map(layerOf)) + 1;
    visiting.delete(id);
    layer.set(id, value);
    return value;
  };
  for (const n of nodes) layerOf(n.id);

  const layers: string[][] = [];
  for (const n of nodes) {
    const l = layer.get(n.id) ?? 0;
    (layers[l] ??= []).push(n.id);
  }
  // Order each layer by the mean row of its parents, so edges cross less.
  const row = new Map<string, number>();
  layers.forEach((ids, l) => {
    if (l > 0) {
      const mean = (id: string) => {
        const ps = (parents.get(id) ?? []).map((p) => row.get(p) ?? 0);
        return ps.length === 0 ? 0 : ps.reduce((a, b) => a + b, 0) / ps.length;
      };
      ids.sort((a, b) => mean(a) - mean(b));
    }
    ids.forEach((id, i) => row.set(id, i - (ids.length - 1) / 2));
  });
  const out = new Map<string, Point>();
  for (const n of nodes) {
    out.set(n.id, { x: (layer.get(n.id) ?? 0) * LAYER_GAP, y: (row.get(n.id) ?? 0) * ROW_GAP });
  }
  return out;
}
