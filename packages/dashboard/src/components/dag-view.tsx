/**
 * A graph template's DAG with React Flow: one box per identifier, never per state, so a
 * 10,000-wide fan-out is one box counting `9,873 ✓ 12 ✗ 115 ⧗`. `next_nodes` are solid edges,
 * a unite is a dashed edge from its target labelled with the strategy. Positions come from the
 * template alone, so live counts change a box's text, never the layout or the selection.
 */
import "@xyflow/react/dist/style.css";

import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from "@xyflow/react";
import { memo, useMemo } from "react";

import { layoutDag } from "../lib/layout";
import { groupCounts } from "../lib/status";
import type { Theme } from "../theme";
import { CountLine, ProgressBar } from "./ui";

export interface DagNode {
  readonly identifier: string;
  readonly node_name: string;
  readonly next_nodes?: readonly string[] | null | undefined;
  readonly unites?: { identifier: string; strategy?: string | undefined } | null | undefined;
}

export interface DagViewProps {
  readonly nodes: readonly DagNode[];
  /** Live counts by status per identifier (a run's page); absent on the graph page. */
  readonly counts?: ReadonlyMap<string, Readonly<Record<string, number>>> | undefined;
  /** Validation errors per identifier. */
  readonly errors?: ReadonlyMap<string, readonly string[]> | undefined;
  readonly selected?: string | undefined;
  readonly onSelect?: ((identifier: string) => void) | undefined;
  readonly theme: Theme;
  readonly height?: number;
}

type StepData = {
  identifier: string;
  nodeName: string;
  counts: Readonly<Record<string, number>> | undefined;
  errors: readonly string[] | undefined;
  isSelected: boolean;
  onSelect: ((identifier: string) => void) | undefined;
  isUnite: boolean;
};
type StepNode = Node<StepData, "step">;

const StepView = memo(function StepView({ data }: NodeProps<StepNode>) {
  const grouped = data.counts ? groupCounts(data.counts) : undefined;
  const className = [
    "step",
    data.isSelected ? "step-selected" : "",
    data.errors && data.errors.length > 0 ? "step-invalid" : "",
    data.isUnite ? "step-unite" : "",
  ].join(" ");
  return (
    <div className={className} data-identifier={data.identifier}>
      <Handle type="target" position={Position.Left} />
      <button
        type="button"
        className="step-button"
        onClick={() => data.onSelect?.(data.identifier)}
        aria-pressed={data.isSelected}
        aria-label={`Node ${data.identifier}`}
      >
        <span className="step-id">{data.identifier}</span>
        <span className="step-name">
          {data.nodeName}
          {data.isUnite ? " · unite" : ""}
        </span>
        {grouped && (
          <>
            <CountLine counts={grouped} />
            <ProgressBar counts={grouped} />
          </>
        )}
      </button>
      {data.errors && data.errors.length > 0 && (
        <ul className="step-errors" role="alert">
          {data.errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
});

const NODE_TYPES = { step: StepView };

export function DagView(props: DagViewProps) {
  const { nodes: template, counts, errors, selected, onSelect, theme } = props;
  const positions = useMemo(
    () => layoutDag(template.map((n) => ({ id: n.identifier, next: n.next_nodes ?? [] }))),
    [template],
  );
  const nodes = useMemo<StepNode[]>(
    () =>
      template.map((n) => ({
        id: n.identifier,
        type: "step",
        position: positions.get(n.identifier) ?? { x: 0, y: 0 },
        draggable: false,
        connectable: false,
        data: {
          identifier: n.identifier,
          nodeName: n.node_name,
          counts: counts?.get(n.identifier) ?? (counts ? {} : undefined),
          errors: errors?.get(n.identifier),
          isSelected: selected === n.identifier,
          onSelect,
          isUnite: Boolean(n.unites),
        },
      })),
    [template, positions, counts, errors, selected, onSelect],
  );
  const edges = useMemo<Edge[]>(() => {
    const out: Edge[] = [];
    for (const n of template) {
      for (const next of n.next_nodes ?? []) {
        out.push({
          id: `${n.identifier}->${next}`,
          source: n.identifier,
          target: next,
          markerEnd: { type: MarkerType.ArrowClosed },
        });
      }
      if (n.unites) {
        out.push({
          id: `unites:${n.unites.identifier}->${n.identifier}`,
          source: n.unites.identifier,
          target: n.identifier,
          className: "edge-unites",
          animated: false,
          label: `unites (${n.unites.strategy ?? "ALL_SUCCESS"})`,
          style: { strokeDasharray: "6 4" },
          markerEnd: { type: MarkerType.Arrow },
        });
      }
    }
    return out;
  }, [template]);

  return (
    <div className="dag" style={{ height: props.height ?? 360 }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        // A click anywhere on a box selects it (the button inside serves the keyboard); without
        // a click handler React Flow makes non-selectable nodes ignore the pointer.
        onNodeClick={onSelect ? (_event, node) => onSelect(node.id) : undefined}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
