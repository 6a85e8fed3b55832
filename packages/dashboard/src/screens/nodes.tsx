/** `/ns/{ns}/nodes`: registered nodes: runtime, last registration, inputs, outputs, secrets. */
import { clientFor } from "../api/client";
import { useAsync } from "../api/use-async";
import { EmptyState, ErrorBanner, QuickStart, Spinner } from "../components/ui";
import { formatRelative, formatTime } from "../lib/format";

function propertyNames(schema: unknown): string[] {
  const properties = (schema as { properties?: unknown } | null)?.properties;
  return properties && typeof properties === "object" ? Object.keys(properties) : [];
}

export function Nodes({ ns }: { ns: string }) {
  const nodes = useAsync(() => clientFor(ns).listNodes(), [ns]);
  const now = Date.now();
  return (
    <section>
      <h1>Registered nodes</h1>
      <ErrorBanner error={nodes.error} />
      {!nodes.data && !nodes.error && <Spinner />}
      {nodes.data && nodes.data.nodes.length === 0 && (
        <EmptyState title="No node registered in this namespace">
          <p>A runtime registers its nodes when it starts.</p>
          <QuickStart namespace={ns} />
        </EmptyState>
      )}
      {nodes.data && nodes.data.nodes.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Runtime</th>
              <th scope="col">Last registered</th>
              <th scope="col">Inputs</th>
              <th scope="col">Outputs</th>
              <th scope="col">Secrets</th>
            </tr>
          </thead>
          <tbody>
            {nodes.data.nodes.map((n) => (
              <tr key={n.name}>
                <td>
                  <strong>{n.name}</strong>
                </td>
                <td>
                  {n.runtime_name}
                  {n.runtime_namespace !== ns && (
                    <span className="muted"> ({n.runtime_namespace})</span>
                  )}
                </td>
                <td title={formatTime(n.updated_at)}>{formatRelative(n.updated_at, now)}</td>
                <td>{propertyNames(n.inputs_schema).join(", ") || "–"}</td>
                <td>{propertyNames(n.outputs_schema).join(", ") || "–"}</td>
                <td>{n.secrets.join(", ") || "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
