import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { SECRET_METADATA_KEY, sameSecret } from "../common/clusterSecret.js";
import { type ErrorCode, isQservError, QservError } from "../common/errors.js";

/** proto/worker.proto, from dist/src/worker/ (compiled) as from src/worker/. */
export const WORKER_PROTO = fileURLToPath(new URL("../../../proto/worker.proto", import.meta.url));

/** Loader options matching src/worker/messages.ts. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};

interface WorkerPackage {
  Worker: grpc.ServiceClientConstructor;
  ChunkTransfer: grpc.ServiceClientConstructor;
}

let cached: WorkerPackage | null = null;

function workerPackage(): WorkerPackage {
  if (cached === null) {
    const def = protoLoader.loadSync(WORKER_PROTO, LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as { miniqserv: { worker: { v1: WorkerPackage } } };
    cached = pkg.miniqserv.worker.v1;
  }
  return cached;
}

/** The Worker service of miniqserv.worker.v1 (definition + client constructor). */
export function workerService(): grpc.ServiceClientConstructor {
  return workerPackage().Worker;
}

/** The ChunkTransfer service of miniqserv.worker.v1 (definition + client constructor). */
export function transferService(): grpc.ServiceClientConstructor {
  return workerPackage().ChunkTransfer;
}

/** Large enough for a load's data pieces and a result batch with big blobs. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Message size limits of both ends of a channel. */
export const MESSAGE_LIMITS = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
} as const;

/**
 * Client channel options: the message limits; a worker that comes back (same address) is
 * reached again within a couple of seconds, not after grpc's default backoff of up to two minutes;
 * and keepalive: while calls are open, a ping every 10 s that must be answered within 10 s, so a
 * worker that stops (SIGSTOP, a link cut without a reset) fails its calls with UNAVAILABLE
 * within about 20 s instead of holding them for as long as TCP waits.
 */
export const CLIENT_OPTIONS = {
  ...MESSAGE_LIMITS,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2000,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 10_000,
} as const;

/** Metadata key carrying our error code next to the gRPC status. */
const CODE_KEY = "mq-error-code";

const STATUS_OF: Record<ErrorCode, grpc.status> = {
  BAD_CONFIG: grpc.status.INVALID_ARGUMENT,
  BAD_INPUT: grpc.status.INVALID_ARGUMENT,
  BAD_REGION: grpc.status.INVALID_ARGUMENT,
  BAD_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  SYNTAX_ERROR: grpc.status.INVALID_ARGUMENT,
  SQL_ERROR: grpc.status.INVALID_ARGUMENT,
  BAD_QUERY: grpc.status.INVALID_ARGUMENT,
  UNSUPPORTED: grpc.status.UNIMPLEMENTED,
  TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  IO: grpc.status.INTERNAL,
  NOT_FOUND: grpc.status.NOT_FOUND,
  CONFLICT: grpc.status.FAILED_PRECONDITION,
  CANCELLED: grpc.status.CANCELLED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  FORBIDDEN: grpc.status.PERMISSION_DENIED,
  INTERNAL: grpc.status.INTERNAL,
};

/** A gRPC error for any thrown value; QservErrors keep their code in the metadata. */
export function toGrpcError(e: unknown): Partial<grpc.StatusObject> {
  const err = isQservError(e) ? e : new QservError("INTERNAL", e instanceof Error ? e.message : String(e));
  const metadata = new grpc.Metadata();
  metadata.set(CODE_KEY, err.code);
  return { code: STATUS_OF[err.code], details: err.message, metadata };
}

const CODE_OF_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: "BAD_ARGUMENT",
  [grpc.status.NOT_FOUND]: "NOT_FOUND",
  [grpc.status.FAILED_PRECONDITION]: "CONFLICT",
  [grpc.status.CANCELLED]: "CANCELLED",
  [grpc.status.UNAVAILABLE]: "UNAVAILABLE",
  [grpc.status.DEADLINE_EXCEEDED]: "UNAVAILABLE",
  [grpc.status.UNAUTHENTICATED]: "UNAUTHENTICATED",
  [grpc.status.PERMISSION_DENIED]: "FORBIDDEN",
};

/** A QservError for an error a gRPC call ended with; `where` names the peer. */
export function fromGrpcError(e: unknown, where: string): QservError {
  if (isQservError(e)) return e;
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se.code !== "number") return new QservError("INTERNAL", `${where}: ${String(e)}`);
  const sent = se.metadata?.get(CODE_KEY)[0];
  const code = (typeof sent === "string" ? sent : CODE_OF_STATUS[se.code]) ?? "INTERNAL";
  return new QservError(code as ErrorCode, se.details || se.message || "unknown error", {
    where,
    grpcStatus: se.code,
  });
}

/** A client interceptor that adds the cluster secret to every call's metadata. */
function withSecret(secret: string): grpc.Interceptor {
  return (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start(metadata, listener, nextStart) {
        metadata.set(SECRET_METADATA_KEY, secret);
        nextStart(metadata, listener);
      },
    });
}

/**
 * A server interceptor that ends every call whose metadata lacks the cluster secret with
 * UNAUTHENTICATED before any handler sees it.
 */
export function requireSecret(secret: string): grpc.ServerInterceptor {
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const given = metadata.get(SECRET_METADATA_KEY)[0];
        if (typeof given === "string" && sameSecret(secret, given)) {
          metadata.remove(SECRET_METADATA_KEY);
          next(metadata);
          return;
        }
        const out = new grpc.Metadata();
        out.set(CODE_KEY, "UNAUTHENTICATED");
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: given === undefined ? "cluster secret required" : "wrong cluster secret",
          metadata: out,
        });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

/** A channel to one service of one worker; subclasses add the typed calls. */
export class ServiceClient<R extends grpc.Client> {
  protected readonly client: R;

  /** `secret`: the cluster secret every call carries (none: calls go without, as to a worker without one). */
  constructor(
    readonly address: string,
    service: grpc.ServiceClientConstructor,
    secret?: string,
  ) {
    const options = secret === undefined ? CLIENT_OPTIONS : { ...CLIENT_OPTIONS, interceptors: [withSecret(secret)] };
    this.client = new service(address, grpc.credentials.createInsecure(), options) as unknown as R;
  }

  close(): void {
    this.client.close();
  }
}
