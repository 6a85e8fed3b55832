/** `/`: the namespaces that have registered nodes. */
import { serverClient } from "../api/client";
import { useAsync } from "../api/use-async";
import { EmptyState, ErrorBanner, QuickStart, Spinner } from "../components/ui";
import { hrefOf } from "../lib/routes";
import { Link, useRouter } from "../router";

export function Home() {
  const { navigate } = useRouter();
  const namespaces = useAsync(() => serverClient().listNamespaces(), []);
  const list = namespaces.data?.namespaces ?? [];
  return (
    <section>
      <h1>Namespaces</h1>
      <ErrorBanner error={namespaces.error} />
      {namespaces.data === undefined && !namespaces.error && <Spinner />}
      {namespaces.data !== undefined && list.length === 0 && (
        <EmptyState title="No namespace yet">
          <p>A namespace appears once a runtime registers its nodes in it.</p>
          <QuickStart />
        </EmptyState>
      )}
      {list.length > 0 && (
        <ul className="tiles">
          {list.map((ns) => (
            <li key={ns}>
              <Link to={hrefOf({ name: "namespace", ns })} className="tile">
                {ns}
              </Link>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const value = new FormData(event.currentTarget).get("ns");
          if (typeof value === "string" && value.trim() !== "") {
            navigate(hrefOf({ name: "namespace", ns: value.trim() }));
          }
        }}
      >
        <label htmlFor="go-ns">Open a namespace by name</label>
        <input id="go-ns" name="ns" placeholder="MyProject" />
        <button type="submit" className="button">
          Open
        </button>
      </form>
    </section>
  );
}
