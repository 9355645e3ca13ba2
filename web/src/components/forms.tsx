import { useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import { errorMessage } from "../errors";

/** A labelled input: the label names it for people, screen readers and tests alike. */
export function Field({ label, hint, ...input }: { label: string; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function ErrorNotice({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p role="alert" className="notice error">
      {message}
    </p>
  );
}

export function InfoNotice({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="notice info">
      {children}
    </p>
  );
}

/** Runs an async step once at a time and keeps its error message for the form to show. */
export function useAction<A extends unknown[]>(step: (...args: A) => Promise<void>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (...args: A) => {
    if (pending) return;
    setPending(true);
    setError(null);
    try {
      await step(...args);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setPending(false);
    }
  };
  return { run, pending, error };
}

/** A form whose submit runs `onSubmit` (with the browser's own validation first). */
export function Form({ onSubmit, children, label }: { onSubmit: () => void; children: ReactNode; label?: string }) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form onSubmit={submit} aria-label={label}>
      {children}
    </form>
  );
}
