/**
 * Modal dialogs on the native `<dialog>`: focus moves into it, Escape closes it, focus returns to
 * the button that opened it. Every action confirms first and shows the server's `detail` when it
 * fails, in the dialog, which stays open.
 */
import { type ReactNode, useEffect, useRef, useState } from "react";

import { errorText } from "../api/client";
import { ErrorBanner } from "./ui";

export function Modal({
  title,
  open,
  onClose,
  children,
  wide,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? "modal modal-wide" : "modal"}
      aria-label={title}
      onClose={onClose}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <header className="modal-header">
            <h2>{title}</h2>
            <button type="button" className="link-button" onClick={onClose} aria-label="Close">
              ×
            </button>
          </header>
          {children}
        </>
      )}
    </dialog>
  );
}

export interface ConfirmActionProps {
  /** The button's text. */
  readonly label: string;
  readonly title: string;
  readonly message: ReactNode;
  readonly confirmLabel?: string;
  readonly danger?: boolean;
  readonly disabled?: boolean;
  /** Resolves with what to tell the user; rejects with the server's error. */
  readonly action: () => Promise<string>;
  readonly onDone?: (message: string) => void;
}

export function ConfirmAction(props: ConfirmActionProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirm = () => {
    setBusy(true);
    setError(undefined);
    props
      .action()
      .then(
        (message) => {
          setOpen(false);
          props.onDone?.(message);
        },
        (err: unknown) => setError(errorText(err)),
      )
      .finally(() => setBusy(false));
  };
  return (
    <>
      <button
        type="button"
        className={props.danger ? "button danger" : "button"}
        disabled={props.disabled}
        onClick={() => {
          setError(undefined);
          setOpen(true);
        }}
      >
        {props.label}
      </button>
      <Modal title={props.title} open={open} onClose={() => setOpen(false)}>
        <div className="modal-body">{props.message}</div>
        <ErrorBanner error={error} />
        <footer className="modal-footer">
          <button type="button" className="button" onClick={() => setOpen(false)}>
            Keep as is
          </button>
          <button
            type="button"
            className={props.danger ? "button danger" : "button primary"}
            onClick={confirm}
            disabled={busy}
            autoFocus
          >
            {busy ? "Working…" : (props.confirmLabel ?? props.label)}
          </button>
        </footer>
      </Modal>
    </>
  );
}
