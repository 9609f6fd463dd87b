/**
 * The czar's MySQL front end: the text protocol's connection phase and the commands clients send
 * (COM_QUERY, COM_INIT_DB, COM_PING, COM_QUIT, COM_FIELD_LIST, COM_STATISTICS, COM_PROCESS_KILL).
 * A connection is a czar session: its id is the process id its queries show in SHOW PROCESSLIST,
 * so the `KILL QUERY <connection id>` a client sends on Ctrl-C stops them.
 */
import { once } from "node:events";
import net from "node:net";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import type { Logger } from "pino";
import { isQservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import type { Principal, Users } from "../../czar/auth/users.js";
import type { Czar, ResultColumnInfo, ResultSink, Session } from "../../czar/czar.js";
import { writeWithin } from "../../czar/writeWithin.js";
import { mysqlError } from "./errorCodes.js";
import {
  authSwitchPayload,
  handshakePayload,
  NATIVE_PASSWORD,
  nativePasswordToken,
  newScramble,
  parseHandshakeResponse,
} from "./handshake.js";
import { LoginThrottle, type LoginThrottleOptions } from "./loginThrottle.js";
import { eofPayload, errPayload, frame, okPayload, type Packet, PacketParser, PayloadReader } from "./packets.js";
import { columnCountPayload, columnPayload, rowPayload } from "./resultSet.js";

/** Rows encoded between turns of the event loop. */
const ROWS_PER_TURN = 1000;

export interface MysqlServerOptions {
  czar: Czar;
  port: number;
  host?: string;
  /** With a password, only this user with this password may connect; without, anyone. */
  user?: string;
  password?: string;
  /** How failed logins are slowed and locked out per source address. */
  login?: LoginThrottleOptions;
  /** The czar's users (src/czar/auth/users.ts): any of them may log in with their password. */
  users?: Users;
  /** The throttle to share with the HTTP API (default: a new one, from `login`). */
  throttle?: LoginThrottle;
  log?: Logger;
}

export interface MysqlServer {
  port: number;
  close(): Promise<void>;
}

export const SERVER_VERSION = "8.0.35-mini-qserv";

const COM = {
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  STATISTICS: 0x09,
  PROCESS_KILL: 0x0c,
  PING: 0x0e,
  RESET_CONNECTION: 0x1f,
} as const;

const started = Date.now();

const useStatement = (db: string) => `USE \`${db.replace(/`/g, "``")}\``;

export async function startMysqlServer(o: MysqlServerOptions): Promise<MysqlServer> {
  const sockets = new Set<net.Socket>();
  const throttle = o.throttle ?? new LoginThrottle(o.login);
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    new Connection(socket, o, throttle).start();
  });
  server.listen(o.port, o.host ?? "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** MySQL's ER_HOST_IS_BLOCKED, with when it ends. */
const blockedMessage = (address: string, ms: number) =>
  `Host '${address}' is blocked because of many failed logins; try again in ${Math.ceil(ms / 1000)} s`;

/** One client connection: packets in, handled one at a time, answers out. */
class Connection {
  private readonly parser = new PacketParser();
  private readonly scramble = newScramble();
  private readonly session: Session;
  private seq = 0;
  private phase: "handshake" | "authSwitch" | "command" = "handshake";
  private user = "";
  private chain: Promise<void> = Promise.resolve();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Cancels the running statement when the client goes away. */
  private readonly gone = new AbortController();
  /** Statements this connection sent (COM_STATISTICS's Questions). */
  private questions = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly o: MysqlServerOptions,
    private readonly throttle: LoginThrottle,
  ) {
    this.session = { id: o.czar.newSessionId(), database: null };
  }

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on("data", (data: Buffer) => {
      let packets: Packet[];
      try {
        packets = this.parser.push(data);
      } catch (e) {
        // A packet over max_allowed_packet: MySQL answers ER_NET_PACKET_TOO_LARGE and hangs up.
        const m = isQservError(e) && e.code === "TOO_LARGE" ? e.message : "malformed packet";
        this.socket.removeAllListeners("data");
        void this.send(errPayload(1153, "08S01", m))
          .catch(() => {})
          .finally(() => this.socket.destroy());
        return;
      }
      for (const p of packets) this.chain = this.chain.then(() => this.onPacket(p));
    });
    this.socket.on("error", () => {});
    // A client that half-closes (mysql2's destroy() ends its side) sends no more commands:
    // it is gone, even while a write to it is pending (which would keep the socket open).
    this.socket.once("end", () => this.socket.destroy());
    // KILL [CONNECTION] of this session's id closes it.
    const detach = this.o.czar.attachConnection(this.session.id as number, () => this.socket.destroy());
    this.socket.once("close", () => {
      detach();
      this.gone.abort();
    });
    void this.send(handshakePayload(this.session.id as number, SERVER_VERSION, this.scramble));
  }

  /** Queues one packet; written by flush(), or at once (then awaitable) when 64 KiB are queued. */
  private push(payload: Buffer): Promise<void> | undefined {
    const { bytes, next } = frame(payload, this.seq);
    this.seq = next;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    return this.pendingBytes >= 1 << 16 ? this.flush() : undefined;
  }

  /** Queues rows, waiting only when a write has to drain. */
  private async pushRows(rows: ReadonlyArray<ReadonlyArray<Value>>, columns: ResultColumnInfo[]): Promise<void> {
    let n = 0;
    for (const row of rows) {
      const wait = this.push(rowPayload(row, columns));
      if (wait !== undefined) await wait;
      // A turn of the event loop now and then: other clients are answered while a large answer is encoded.
      if (++n % ROWS_PER_TURN === 0) await yieldToLoop();
    }
  }

  /**
   * Writes what is queued; resolves once the socket can take more (backpressure for big results).
   * A client that takes nothing for the session's net_write_timeout is disconnected.
   */
  private async flush(): Promise<void> {
    const bytes = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await writeWithin(this.socket, bytes, this.o.czar.writeTimeoutMs(this.session));
  }

  /** One packet, written at once. */
  private async send(payload: Buffer): Promise<void> {
    await this.push(payload);
    await this.flush();
  }

  private async onPacket(p: Packet): Promise<void> {
    this.seq = (p.seq + 1) & 0xff;
    try {
      if (this.phase === "command") await this.command(p.payload);
      else await this.authenticate(p.payload);
    } catch (e) {
      if (this.socket.destroyed) return;
      const m = mysqlError(e);
      await this.send(errPayload(m.code, m.sqlState, m.message)).catch(() => {});
    }
  }

  private async authenticate(payload: Buffer): Promise<void> {
    let token: Buffer;
    if (this.phase === "handshake") {
      let r: ReturnType<typeof parseHandshakeResponse>;
      try {
        r = parseHandshakeResponse(payload);
      } catch {
        return this.refuse(1043, "08S01", "Bad handshake"); // MySQL's ER_HANDSHAKE_ERROR
      }
      this.user = r.user;
      this.session.user = r.user;
      if (r.plugin !== NATIVE_PASSWORD) {
        this.phase = "authSwitch";
        await this.send(authSwitchPayload(this.scramble));
        return;
      }
      token = r.authResponse;
      if (r.database !== null) this.session.database = r.database;
    } else {
      token = payload;
    }
    const { user, password, users } = this.o;
    // --mysql-password: that user (any name when none is given) is an admin.
    const legacy = password !== undefined && password !== "";
    if (legacy || users?.configured === true) {
      const address = this.socket.remoteAddress ?? "";
      const lockedMs = this.throttle.lockedFor(address);
      if (lockedMs > 0) return this.refuse(1129, "HY000", blockedMessage(address, lockedMs));
      let who: Principal | null = users?.checkMysql(this.user, this.scramble, token) ?? null;
      const named = user === undefined || this.user === user;
      if (who === null && legacy && named && nativePasswordToken(password, this.scramble).equals(token)) {
        who = { user: this.user, role: "admin" };
      }
      if (who === null) {
        const v = this.throttle.failed(address);
        const log = { address, user: this.user, failures: v.failures, delayMs: v.delayMs };
        if (v.locked) this.o.log?.warn(log, "mysql login locked out");
        else this.o.log?.info(log, "mysql login failed");
        await sleep(v.delayMs);
        return this.refuse(1045, "28000", `Access denied for user '${this.user}'`);
      }
      this.throttle.succeeded(address);
      // Users other than admins see and kill only their own queries.
      if (who.role !== "admin") this.session.ownQueriesOnly = true;
      if (who.role === "reader") this.session.readOnly = true;
    }
    if (this.session.database !== null) {
      const db = this.session.database;
      this.session.database = null;
      await this.o.czar.execute(useStatement(db), this.session);
    }
    this.phase = "command";
    this.session.host = `${this.socket.remoteAddress ?? ""}:${this.socket.remotePort ?? ""}`;
    this.session.activeAt = Date.now();
    this.o.czar.openSession(this.session);
    this.socket.once("close", () => this.o.czar.closeSession(this.session));
    this.o.log?.debug({ connection: this.session.id, user: this.user }, "mysql client connected");
    await this.send(okPayload());
  }

  /** A login refused: the error, then the connection closed. */
  private async refuse(code: number, sqlState: string, message: string): Promise<void> {
    await this.send(errPayload(code, sqlState, message));
    this.socket.end();
  }

  private async command(payload: Buffer): Promise<void> {
    const body = payload.subarray(1);
    switch (payload[0]) {
      case COM.QUIT:
        this.socket.end();
        return;
      case COM.PING:
      case COM.RESET_CONNECTION:
        return this.send(okPayload());
      case COM.INIT_DB:
        return this.query(useStatement(body.toString("utf8")));
      case COM.QUERY:
        this.questions++;
        this.session.activeAt = Date.now();
        return this.query(body.toString("utf8"));
      case COM.FIELD_LIST:
        // Clients ask this for name completion only: no fields is a valid answer.
        return this.send(eofPayload());
      case COM.STATISTICS:
        return this.send(
          Buffer.from(
            `Uptime: ${Math.floor((Date.now() - started) / 1000)}  Threads: ${this.o.czar.sessionCount()}  Questions: ${this.questions}  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: ${(this.questions / Math.max(1, (Date.now() - started) / 1000)).toFixed(3)}`,
            "utf8",
          ),
        );
      case COM.PROCESS_KILL:
        return this.query(`KILL ${new PayloadReader(body).int4()}`);
      default:
        return this.send(errPayload(1047, "08S01", `Unknown command ${payload[0]}`));
    }
  }

  private async query(sql: string): Promise<void> {
    const schema = () => this.session.database ?? "";
    const header = async (columns: ResultColumnInfo[]) => {
      await this.push(columnCountPayload(columns.length));
      for (const c of columns) await this.push(columnPayload(c, schema()));
      await this.push(eofPayload());
    };
    let columns: ResultColumnInfo[] = [];
    // Rows the czar streams go out as they come, each batch flushed (the socket's backpressure
    // holds the czar's dispatch back); an error after the header ends the result with ERR.
    const sink: ResultSink = {
      header: async (c) => {
        columns = c;
        await header(c);
      },
      rows: async (rows) => {
        await this.pushRows(rows, columns);
        await this.flush();
      },
    };
    const a = await this.o.czar.execute(sql, this.session, this.gone.signal, sink);
    if (!a.streamed) {
      if (a.columns.length === 0) return this.send(okPayload());
      await header(a.columns);
      await this.pushRows(a.rows, a.columns);
    }
    await this.send(eofPayload());
  }
}
