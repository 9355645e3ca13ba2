import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

/** The app's URL prefix (/app), from the build's base. */
const BASE = import.meta.env.BASE_URL.replace(/\/$/, "");
const CHANGE = "app:navigate";

function subscribe(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(CHANGE, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(CHANGE, listener);
  };
}

const current = () => window.location.pathname + window.location.search;

/** The path inside the app (`/agents/1`), and its query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, current);
  const url = new URL(href, window.location.origin);
  const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) || "/" : url.pathname;
  return { path: path.length > 1 ? path.replace(/\/$/, "") : path, query: url.searchParams };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const href = BASE + to;
  if (options.replace) window.history.replaceState(null, "", href);
  else window.history.pushState(null, "", href);
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo(0, 0);
}

/** An ordinary link (opens in a new tab, copies) that navigates inside the page on a plain click. */
export function Link({ to, ...rest }: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={onClick} {...rest} />;
}
