import { UserError } from "../domain/errors.js";

export type GatewayErrorKind =
  | "unreachable"
  | "timeout"
  /** The caller's AbortSignal fired, or the client was closed. */
  | "aborted"
  | "unauthorized"
  | "endpoint_disabled"
  | "unknown_agent"
  | "provider_timeout"
  /** The gateway runs but its model has no usable credentials (none, rejected, out of quota). */
  | "model_auth"
  /** The gateway runs but its agent's model is not one the provider knows. */
  | "model_not_found"
  | "starting"
  | "bad_response"
  | "http_error";

const RETRYABLE: Record<GatewayErrorKind, boolean> = {
  unreachable: true,
  timeout: true,
  aborted: false,
  unauthorized: false,
  endpoint_disabled: false,
  unknown_agent: false,
  provider_timeout: true,
  model_auth: false,
  model_not_found: false,
  starting: true,
  bad_response: false,
  http_error: false,
};

/** What a GatewayError carries besides its kind and message. */
export interface GatewayErrorOptions {
  nodeId: string;
  hint?: string;
  status?: number;
  partialText?: string;
  retryable?: boolean;
  notStarted?: boolean;
  cause?: unknown;
}

export class GatewayError extends UserError {
  readonly kind: GatewayErrorKind;
  readonly retryable: boolean;
  readonly nodeId: string;
  /** HTTP status when the gateway answered with one. */
  readonly status: number | undefined;
  /** Reply text streamed before a chat failed. */
  readonly partialText: string | undefined;
  /**
   * The gateway never took the request (the connection was refused, or it answered that it is
   * still starting): no turn ran, so a task given back for it keeps its attempt.
   */
  readonly notStarted: boolean;
  constructor(kind: GatewayErrorKind, message: string, options: GatewayErrorOptions) {
    super(message, { hint: options.hint, code: `gateway_${kind}`, cause: options.cause });
    this.name = "GatewayError";
    this.kind = kind;
    this.nodeId = options.nodeId;
    this.status = options.status;
    this.partialText = options.partialText || undefined;
    this.retryable = options.retryable ?? RETRYABLE[kind];
    this.notStarted = options.notStarted ?? false;
  }
}
