/**
 * The dashboard's URLs. Each screen has a stable deep link; the state manager answers
 * `index.html` for `/` and `/ns/*` (its `dashboard.ts` plugin), so these survive a reload.
 */
export type Route =
  | { readonly name: "home" }
  | { readonly name: "namespace"; readonly ns: string }
  | { readonly name: "runs"; readonly ns: string }
  | { readonly name: "run"; readonly ns: string; readonly runId: string }
  | { readonly name: "graph"; readonly ns: string; readonly graph: string }
  | { readonly name: "nodes"; readonly ns: string }
  | { readonly name: "not-found"; readonly path: string };

/** The route of a location's path (query and hash excluded). */
export function parseRoute(pathname: string): Route {
  const parts = pathname
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  if (parts.length === 0) return { name: "home" };
  const [first, ns, section, id, ...rest] = parts;
  if (first !== "ns" || ns === undefined || rest.length > 0) {
    return { name: "not-found", path: pathname };
  }
  if (section === undefined) return { name: "namespace", ns };
  if (section === "runs" && id === undefined) return { name: "runs", ns };
  if (section === "runs" && id !== undefined) return { name: "run", ns, runId: id };
  if (section === "graphs" && id !== undefined) return { name: "graph", ns, graph: id };
  if (section === "nodes" && id === undefined) return { name: "nodes", ns };
  return { name: "not-found", path: pathname };
}

/** The path of a route; `parseRoute(hrefOf(r))` is `r`. */
export function hrefOf(route: Route): string {
  const e = encodeURIComponent;
  switch (route.name) {
    case "home":
      return "/";
    case "namespace":
      return `/ns/${e(route.ns)}`;
    case "runs":
      return `/ns/${e(route.ns)}/runs`;
    case "run":
      return `/ns/${e(route.ns)}/runs/${e(route.runId)}`;
    case "graph":
      return `/ns/${e(route.ns)}/graphs/${e(route.graph)}`;
    case "nodes":
      return `/ns/${e(route.ns)}/nodes`;
    case "not-found":
      return route.path;
    default:
      return assertNever(route);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
