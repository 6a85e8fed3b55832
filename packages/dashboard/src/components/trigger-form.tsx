/**
 * Trigger a run: a form generated from the root node's inputs (described by its registered
 * `inputs_schema`), the graph's store keys, and a start delay. Only changed inputs are sent.
 */
import { type FormEvent, useEffect, useMemo, useState } from "react";

import { clientFor, errorText } from "../api/client";
import { useAsync } from "../api/use-async";
import { changedInputs, inputFieldsOf, rootNodeOf, storeFieldsOf } from "../lib/trigger-form";
import { Modal } from "./dialog";
import { ErrorBanner, Spinner } from "./ui";

export interface TriggerFormProps {
  readonly ns: string;
  readonly graphName: string;
  readonly open: boolean;
  readonly onClose: () => void;
  readonly onTriggered: (runId: string) => void;
}

export function TriggerForm(props: TriggerFormProps) {
  const { ns, graphName, open } = props;
  const client = clientFor(ns);
  const loaded = useAsync(
    async () => (open ? Promise.all([client.getGraph(graphName), client.listNodes()]) : undefined),
    [ns, graphName, open],
  );
  const fields = useMemo(() => {
    if (!loaded.data) return undefined;
    const [template, nodes] = loaded.data;
    const root = rootNodeOf(template.nodes);
    const registered = nodes.nodes.find((n) => n.name === root?.node_name);
    return {
      inputs: inputFieldsOf(template, registered?.inputs_schema),
      store: storeFieldsOf(template),
      rootId: root?.identifier,
    };
  }, [loaded.data]);
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [store, setStore] = useState<Record<string, string>>({});
  const [extraStore, setExtraStore] = useState<{ key: string; value: string }[]>([]);
  const [delaySeconds, setDelaySeconds] = useState("0");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!fields) return;
    setInputs(Object.fromEntries(fields.inputs.map((f) => [f.name, f.defaultValue])));
    setStore(Object.fromEntries(fields.store.map((f) => [f.key, f.defaultValue])));
    setExtraStore([]);
    setDelaySeconds("0");
    setError(undefined);
  }, [fields]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!fields) return;
    const storeValues: Record<string, string> = {};
    for (const [key, value] of Object.entries(store)) if (value !== "") storeValues[key] = value;
    for (const { key, value } of extraStore) if (key.trim() !== "") storeValues[key.trim()] = value;
    const delay = Math.round(Number(delaySeconds) * 1000);
    setBusy(true);
    setError(undefined);
    client
      .trigger(graphName, {
        inputs: changedInputs(fields.inputs, inputs),
        store: storeValues,
        startDelay: Number.isFinite(delay) && delay > 0 ? delay : 0,
      })
      .then(
        ({ run_id }) => {
          props.onClose();
          props.onTriggered(run_id);
        },
        (err: unknown) => setError(errorText(err)),
      )
      .finally(() => setBusy(false));
  };

  return (
    <Modal title={`Trigger ${graphName}`} open={open} onClose={props.onClose}>
      <form onSubmit={submit}>
        <div className="modal-body">
          <ErrorBanner error={loaded.error} />
          {!fields && !loaded.error && <Spinner />}
          {fields && (
            <>
              <fieldset>
                <legend>
                  Inputs of the root node <code>{fields.rootId ?? "?"}</code>
                </legend>
                {fields.inputs.length === 0 && (
                  <p className="muted">The root node takes no input.</p>
                )}
                {fields.inputs.map((field) => (
                  <div className="form-row" key={field.name}>
                    <label htmlFor={`input-${field.name}`}>
                      {field.name}
                      {field.required ? " *" : ""}
                    </label>
                    <input
                      id={`input-${field.name}`}
                      value={inputs[field.name] ?? ""}
                      onChange={(event) =>
                        setInputs({ ...inputs, [field.name]: event.target.value })
                      }
                    />
                    {field.description && <small className="muted">{field.description}</small>}
                  </div>
                ))}
              </fieldset>
              <fieldset>
                <legend>Store</legend>
                {fields.store.map((field) => (
                  <div className="form-row" key={field.key}>
                    <label htmlFor={`store-${field.key}`}>
                      {field.key}
                      {field.required ? " * (required)" : " (has a default)"}
                    </label>
                    <input
                      id={`store-${field.key}`}
                      value={store[field.key] ?? ""}
                      onChange={(event) => setStore({ ...store, [field.key]: event.target.value })}
                    />
                  </div>
                ))}
                {extraStore.map((row, i) => (
                  <div className="form-row inline" key={i}>
                    <input
                      aria-label="Store key"
                      placeholder="key"
                      value={row.key}
                      onChange={(event) =>
                        setExtraStore(
                          extraStore.map((r, j) =>
                            j === i ? { ...r, key: event.target.value } : r,
                          ),
                        )
                      }
                    />
                    <input
                      aria-label="Store value"
                      placeholder="value"
                      value={row.value}
                      onChange={(event) =>
                        setExtraStore(
                          extraStore.map((r, j) =>
                            j === i ? { ...r, value: event.target.value } : r,
                          ),
                        )
                      }
                    />
                  </div>
                ))}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => setExtraStore([...extraStore, { key: "", value: "" }])}
                >
                  + store value
                </button>
              </fieldset>
              <div className="form-row">
                <label htmlFor="start-delay">Start delay (seconds)</label>
                <input
                  id="start-delay"
                  type="number"
                  min="0"
                  step="1"
                  value={delaySeconds}
                  onChange={(event) => setDelaySeconds(event.target.value)}
                />
              </div>
            </>
          )}
          <ErrorBanner error={error} />
        </div>
        <footer className="modal-footer">
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || !fields}>
            {busy ? "Triggering…" : "Trigger run"}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
