import JSON5 from "json5";

/**
 * The copied config, set to the remote port and bound to loopback. OpenClaw writes absolute
 * paths into it (agents.defaults.workspace, agents.entries.*.agentDir): those inside the
 * profile are moved to the profile's place there, or the gateway there would look for its
 * workspace under this machine's home.
 */
export function remoteConfig(raw: string, port: number, paths: { from: string; to: string }): string {
  const relocate = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (value === paths.from) return paths.to;
      if (value.startsWith(`${paths.from}/`)) return paths.to + value.slice(paths.from.length);
      return value;
    }
    if (Array.isArray(value)) return value.map(relocate);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)]));
    return value;
  };
  const config = relocate(JSON5.parse(raw)) as { gateway?: Record<string, unknown> };
  config.gateway = { ...(config.gateway ?? {}), port, bind: "loopback" };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Absolute paths in the config under this machine's home but outside the profile: they do not travel. */
export function pathsOutside(raw: string, stateDir: string, home: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      if (home && value.startsWith(`${home}/`) && value !== stateDir && !value.startsWith(`${stateDir}/`))
        found.add(value);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  try {
    visit(JSON5.parse(raw));
  } catch {
    // an unreadable config fails later with its own message
  }
  return [...found];
}
