import { createHash } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { type Catalog, removeDataFile, type TableMeta } from "./catalog.js";
import { runCopyTask, tempFile } from "./chunkCopy.js";
import { toGrpcError } from "./grpc.js";
import type { KeyedMutex } from "./keyedMutex.js";
import { checkName, databaseDir, dataFile, NO_CHUNK } from "./layout.js";
import type {
  ColumnDef,
  ExportRequest,
  ExportResponse,
  FileHeader,
  ImportRequest,
  ImportResponse,
} from "./messages.js";

/** Size of the data messages of an export. */
export const TRANSFER_PIECE_BYTES = 1 << 20;

/** The ChunkTransfer service: whole chunk files out (Export) and in (Import). */
export class ChunkTransferService {
  constructor(
    private readonly dataDir: string,
    private readonly catalog: Catalog,
    /** The Worker service's per-file locks: an import never interleaves with a load or drop. */
    private readonly fileLocks: KeyedMutex,
    private readonly log: Logger,
  ) {}

  handlers(): grpc.UntypedServiceImplementation {
    return {
      export: (call: grpc.ServerWritableStream<ExportRequest, ExportResponse>) => {
        this.export(call).catch((e: unknown) => call.emit("error", toGrpcError(e)));
      },
      import: (
        call: grpc.ServerReadableStream<ImportRequest, ImportResponse>,
        cb: grpc.sendUnaryData<ImportResponse>,
      ) => this.import(call, cb),
    };
  }

  private async export(call: grpc.ServerWritableStream<ExportRequest, ExportResponse>): Promise<void> {
    const { database, chunkId } = call.request;
    checkName("database", database);
    if (this.catalog.tablesIn(database, chunkId) === null) {
      throw new QservError("NOT_FOUND", `this worker holds no chunk ${chunkId} of database ${database}`);
    }
    let cancelled = false;
    call.on("cancelled", () => {
      cancelled = true;
    });
    const tmp = tempFile(this.dataDir, "export");
    try {
      const snap = await runCopyTask<"snapshot">(
        { t: "snapshot", src: dataFile(this.dataDir, database, chunkId), tmp },
        "IO",
      );
      const header: FileHeader = { database, chunkId, size: snap.size, sha256: snap.sha256 };
      const pieces = fs.createReadStream(tmp, { highWaterMark: TRANSFER_PIECE_BYTES });
      try {
        const messages = (async function* () {
          yield { part: "header", header } satisfies ExportResponse;
          for await (const data of pieces) yield { part: "data", data: data as Buffer } satisfies ExportResponse;
        })();
        for await (const m of messages) {
          if (cancelled) return;
          if (!call.write(m)) await Promise.race([once(call, "drain"), once(call, "cancelled")]);
        }
      } finally {
        pieces.destroy();
      }
      if (!cancelled) call.end();
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  private import(
    call: grpc.ServerReadableStream<ImportRequest, ImportResponse>,
    cb: grpc.sendUnaryData<ImportResponse>,
  ) {
    const t0 = performance.now();
    const tmp = tempFile(this.dataDir, "import");
    const hash = createHash("sha256");
    let header: FileHeader | null = null;
    let out: fs.promises.FileHandle | null = null;
    let received = 0;
    let done = false;

    const finish = (e: unknown, r?: ImportResponse) => {
      if (done) return;
      done = true;
      void (out?.close() ?? Promise.resolve())
        .catch(() => {})
        .finally(() => {
          fs.rmSync(tmp, { force: true });
          if (e === null) cb(null, r);
          else {
            this.log.warn({ database: header?.database, chunkId: header?.chunkId, err: String(e) }, "import rejected");
            cb(toGrpcError(e));
          }
        });
    };

    const onMessage = async (m: ImportRequest): Promise<void> => {
      if (m.part === "header") {
        if (header !== null) throw new QservError("BAD_ARGUMENT", "an import has one header, first");
        checkName("database", m.header.database);
        if (m.header.chunkId < NO_CHUNK) throw new QservError("BAD_ARGUMENT", `bad chunk id ${m.header.chunkId}`);
        header = m.header;
        out = await fs.promises.open(tmp, "w");
        return;
      }
      if (header === null || out === null) throw new QservError("BAD_ARGUMENT", "an import starts with its header");
      received += m.data.length;
      if (received > header.size) throw new QservError("BAD_INPUT", `more than the announced ${header.size} bytes`);
      hash.update(m.data);
      await (out as fs.promises.FileHandle).write(m.data);
    };

    call.on("data", (m: ImportRequest) => {
      call.pause();
      onMessage(m).then(
        () => call.resume(),
        (e) => finish(e),
      );
    });
    call.on("end", () => {
      if (done) return;
      const h = header;
      if (h === null) return finish(new QservError("BAD_ARGUMENT", "import stream ended without a header"));
      const closing = out!.close();
      out = null;
      closing
        .then(() => this.install(h, tmp, received, hash.digest("hex")))
        .then(
          (r) => finish(null, { ...r, elapsedMs: performance.now() - t0 }),
          (e) => finish(e),
        );
    });
    call.on("cancelled", () => finish(new QservError("CANCELLED", "import cancelled by the client")));
    call.on("error", (e) => finish(e));
  }

  /** Checks a received file and puts it in place; the catalog then describes it. */
  private async install(
    h: FileHeader,
    tmp: string,
    size: number,
    sha256: string,
  ): Promise<Omit<ImportResponse, "elapsedMs">> {
    if (size !== h.size) throw new QservError("BAD_INPUT", `received ${size} bytes of the announced ${h.size}`);
    if (sha256 !== h.sha256) {
      throw new QservError("BAD_INPUT", `checksum mismatch: received sha256 ${sha256}, announced ${h.sha256}`);
    }
    const { records, published } = await runCopyTask<"verified">({ t: "verify", tmp, chunkId: h.chunkId }, "BAD_INPUT");
    const metas = records.map((r) => ({
      meta: {
        name: r.name,
        partitioned: h.chunkId !== NO_CHUNK,
        columns: JSON.parse(r.columns) as ColumnDef[],
        directorKey: r.director_key,
      } satisfies TableMeta,
      counts: { rows: r.rows, overlapRows: r.overlap_rows },
    }));
    const dest = dataFile(this.dataDir, h.database, h.chunkId);
    const release = await this.fileLocks.acquire(dest);
    try {
      for (const m of metas) this.catalog.checkTable(h.database, m.meta);
      const replaced = fs.existsSync(dest);
      if (replaced) {
        await runCopyTask<"replaced">({ t: "replace", tmp, dest }, "IO");
      } else {
        fs.mkdirSync(databaseDir(this.dataDir, h.database), { recursive: true });
        removeDataFile(dest); // side files a dropped chunk may have left
        fs.renameSync(tmp, dest);
      }
      this.catalog.forget(h.database, h.chunkId, null);
      for (const m of metas) this.catalog.record(h.database, h.chunkId, m.meta, m.counts);
      // The czar tells a whole replica by its loads' stages too.
      this.catalog.notePublishedIn(h.database, h.chunkId, published);
      this.log.info({ database: h.database, chunkId: h.chunkId, bytes: size, replaced }, "chunk imported");
      return {
        tables: metas.map((m) => ({ table: m.meta.name, rows: m.counts.rows, overlapRows: m.counts.overlapRows })),
        bytes: size,
        replaced,
      };
    } finally {
      release();
    }
  }
}
