/**
 * Create or update a graph template from pasted or uploaded JSON. The server validates at once:
 * an INVALID template (saved as a new version) or a structural 400 (nothing saved) shows its
 * errors next to the node each one is about, on the pasted graph's DAG.
 */
import type { GraphNode } from "exospherehost/client";
import { type ChangeEvent, useEffect, useMemo, useState } from "react";

import { clientFor, errorText, validationErrorsOf } from "../api/client";
import { parseGraphFile } from "../lib/graph-file";
import { attributeErrors } from "../lib/validation-errors";
import { useTheme } from "../theme";
import { DagView } from "./dag-view";
import { Modal } from "./dialog";
import { ErrorBanner } from "./ui";

export interface UpsertGraphProps {
  readonly ns: string;
  readonly open: boolean;
  /** Editing an existing graph: its name is fixed and its JSON pre-filled. */
  readonly graphName?: string;
  readonly initialJson?: string;
  readonly onClose: () => void;
  readonly onSaved: (name: string) => void;
}

const EXAMPLE = (ns: string) =>
  JSON.stringify(
    {
      secrets: {},
      nodes: [
        {
          node_name: "MyNode",
          namespace: ns,
          identifier: "first",
          inputs: { text: "hello" },
          next_nodes: [],
        },
      ],
    },
    null,
    2,
  );

export function UpsertGraph(props: UpsertGraphProps) {
  const { theme } = useTheme();
  const [name, setName] = useState(props.graphName ?? "");
  const [text, setText] = useState(props.initialJson ?? EXAMPLE(props.ns));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [validationErrors, setValidationErrors] = useState<readonly string[]>([]);
  useEffect(() => {
    if (props.open) {
      setName(props.graphName ?? "");
      setText(props.initialJson ?? EXAMPLE(props.ns));
      setError(undefined);
      setValidationErrors([]);
    }
  }, [props.open, props.graphName, props.initialJson, props.ns]);

  const parsed = useMemo(() => parseGraphFile(text), [text]);
  const nodes: GraphNode[] =
    parsed.ok && Array.isArray(parsed.definition.nodes) ? parsed.definition.nodes : [];
  const attributed = useMemo(
    () => attributeErrors(validationErrors, nodes),
    [validationErrors, nodes],
  );

  const upload = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    void file.text().then(setText);
    if (name === "") setName(file.name.replace(/\.json$/i, ""));
  };

  const save = () => {
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(undefined);
    setValidationErrors([]);
    clientFor(props.ns)
      .upsertGraph(name.trim(), parsed.definition)
      .then(
        () => {
          props.onClose();
          props.onSaved(name.trim());
        },
        (err: unknown) => {
          const errors = validationErrorsOf(err);
          setValidationErrors(errors ?? []);
          setError(
            errors
              ? `The server found ${errors.length} problem${errors.length === 1 ? "" : "s"} in this graph${
                  err instanceof Error && err.name === "GraphValidationError"
                    ? " (saved as a new INVALID version: runs cannot start until it is fixed)"
                    : " (nothing was saved)"
                }.`
              : errorText(err),
          );
        },
      )
      .finally(() => setBusy(false));
  };

  return (
    <Modal
      title={props.graphName ? `Update graph ${props.graphName}` : "New graph"}
      open={props.open}
      onClose={props.onClose}
      wide
    >
      <div className="modal-body upsert">
        <div className="form-row">
          <label htmlFor="graph-name">Name</label>
          <input
            id="graph-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            disabled={props.graphName !== undefined}
            required
          />
        </div>
        <div className="form-row">
          <label htmlFor="graph-json">
            Template JSON (the body of <code>PUT /graph/{"{g}"}</code>: nodes, secrets,
            retry_policy, store_config, triggers)
          </label>
          <textarea
            id="graph-json"
            value={text}
            onChange={(event) => setText(event.target.value)}
            rows={8}
            spellCheck={false}
          />
        </div>
        <div className="form-row">
          <label htmlFor="graph-file">Or upload a file</label>
          <input id="graph-file" type="file" accept="application/json,.json" onChange={upload} />
        </div>
        {!parsed.ok && <p className="muted">{parsed.error}</p>}
        <ErrorBanner error={error} />
        {attributed.general.length > 0 && (
          <ul className="errors" aria-label="Graph errors">
            {attributed.general.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        )}
        {nodes.length > 0 && validationErrors.length > 0 && (
          <DagView nodes={nodes} errors={attributed.byIdentifier} theme={theme} height={300} />
        )}
      </div>
      <footer className="modal-footer">
        <button type="button" className="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button primary"
          onClick={save}
          disabled={busy || name.trim() === ""}
        >
          {busy ? "Saving…" : "Save graph"}
        </button>
      </footer>
    </Modal>
  );
}
