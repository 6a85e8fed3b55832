/**
 * A connection string without its password, for messages and logs: everything between `://`
 * and the last `@` but the user name goes (a password may hold a raw `@` or `/`). Without a
 * password the string is left as it is.
 */
export function redactUrl(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i,
    (whole: string, scheme: string, userinfo: string) =>
      userinfo.includes(":") ? `${scheme}${userinfo.split(":")[0] ?? ""}:***@` : whole,
  );
}
