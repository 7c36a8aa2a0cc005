import type { FederationApi } from "../core/domain/federation-types.js";
import type { Role } from "../core/domain/roles.js";

export interface ServeOptions {
  host: string;
  port: number;
  hostKeyFile: string;
  authorizedKeysFile: string;
  logFile: string;
  readonly: boolean;
  /** The federation home: every session's actions go to its audit.log. */
  home: string;
  /** Roles by key fingerprint (federation.json `serveRoles`); a key line's clawos-role= wins. */
  roles: Record<string, Role>;
  /** Control centers (shells) open at once, over all connections. */
  maxSessions: number;
  /** Seconds a connection has to log in (default 20). */
  loginGraceSeconds?: number;
  /** Connections still logging in at once (default 10). */
  maxUnauthenticated?: number;
  keys?: Record<string, string | string[]>;
  /** Mount one UI on a session's streams; resolves when the user quits or the session ends. */
  runSession: (
    api: FederationApi,
    io: {
      stdin: NodeJS.ReadStream;
      stdout: NodeJS.WriteStream;
      readonly: boolean;
      keys?: Record<string, string | string[]>;
    },
  ) => Promise<void>;
}

export interface RunningServer {
  port: number;
  sessions(): number;
  close(): Promise<void>;
}
