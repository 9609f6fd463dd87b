/**
 * ADQL's functions onto the czar's AST: geometry becomes the scisql calls that the restrictors
 * know (so `CONTAINS(POINT(..), CIRCLE(..)) = 1` asks only the chunks that meet the circle, as
 * `qserv_areaspec_circle` does), DISTANCE scisql_angSep, COORD1/COORD2 the point's coordinates;
 * the math and string functions are MySQL's own, TRUNCATE(x) being TRUNCATE(x, 0).
 */
import type { Call, Expr, Pos } from "./ast.js";
import { sqlError } from "./lexer.js";
import { call, decimal, integer, numberOf } from "./walk.js";

const GEOMETRY = new Set(["POINT", "CIRCLE", "BOX", "POLYGON"]);

/** ADQL functions that are refused: no geometry columns or values here. */
const UNSUPPORTED = new Set(["AREA", "CENTROID", "COORDSYS", "REGION", "IN_UNIT"]);

const refuse = (what: string, pos: Pos, token: string): never => {
  throw sqlError(`ADQL ${what} is not supported`, pos, token);
};

const upper = (c: Call) => c.name.toUpperCase();

/** A geometry constructor's arguments without its coordinate system, which must be ICRS (or empty). */
function coords(c: Call): Expr[] {
  const [first, ...rest] = c.args;
  if (first?.kind !== "string") return c.args;
  const sys = first.value.trim().toUpperCase().split(/\s+/)[0] ?? "";
  if (sys !== "" && sys !== "ICRS") refuse(`coordinate system '${first.value}'`, first.pos, first.value);
  return rest;
}

function arity(c: Call, n: number): Expr[] {
  const a = coords(c);
  if (a.length !== n) throw sqlError(`ADQL ${upper(c)} takes ${n} coordinates, not ${a.length}`, c.pos, c.name);
  return a;
}

/** POINT(sys, lon, lat) → [lon, lat]; anything else is refused. */
function point(e: Expr): [Expr, Expr] {
  if (e.kind !== "call" || upper(e) !== "POINT") {
    return refuse("geometry other than POINT(...) here (no geometry columns)", e.pos, exprToken(e));
  }
  const [lon, lat] = arity(e, 2);
  return [lon!, lat!];
}

function exprToken(e: Expr): string {
  return e.kind === "call" ? e.name : e.kind === "column" ? e.name : "";
}

function literal(e: Expr, what: string): number {
  const v = numberOf(e);
  if (v === null) refuse(`${what} with a parameter that is not a numeric literal`, e.pos, exprToken(e));
  return v as number;
}

/** `lon, lat` in `region` as a scisql call (1 or 0). */
function pointIn(lon: Expr, lat: Expr, region: Expr, pos: Pos): Expr {
  if (region.kind !== "call" || !GEOMETRY.has(upper(region)) || upper(region) === "POINT") {
    return refuse(
      "CONTAINS/INTERSECTS of anything but a POINT and a CIRCLE, BOX or POLYGON",
      region.pos,
      exprToken(region),
    );
  }
  const kind = upper(region);
  if (kind === "CIRCLE") {
    const a = coords(region);
    const [clon, clat, r] = a.length === 2 ? [...point(a[0]!), a[1]!] : arity(region, 3);
    return call("scisql_s2PtInCircle", [lon, lat, clon!, clat!, r!], pos);
  }
  if (kind === "BOX") {
    const [x, y, w, h] = arity(region, 4).map((e) => literal(e, "BOX"));
    const edges = [x! - w! / 2, y! - h! / 2, x! + w! / 2, y! + h! / 2].map(decimal);
    return call("scisql_s2PtInBox", [lon, lat, ...edges], pos);
  }
  const a = coords(region);
  const vertices = a.every((v) => v.kind === "call") ? a.flatMap(point) : a;
  if (vertices.length < 6 || vertices.length % 2 !== 0) {
    throw sqlError("ADQL POLYGON needs at least 3 vertices", region.pos, region.name);
  }
  return call("scisql_s2PtInCPoly", [lon, lat, ...vertices], pos);
}

/** An ADQL function call as the czar's expression. */
export function adqlCall(c: Call): Expr {
  const name = upper(c);
  const args = c.args;
  switch (name) {
    case "CONTAINS": {
      if (args.length !== 2) throw sqlError("ADQL CONTAINS takes 2 arguments", c.pos, c.name);
      return pointIn(...point(args[0]!), args[1]!, c.pos);
    }
    case "INTERSECTS": {
      if (args.length !== 2) throw sqlError("ADQL INTERSECTS takes 2 arguments", c.pos, c.name);
      const [a, b] = args as [Expr, Expr];
      const aPoint = a.kind === "call" && upper(a) === "POINT";
      return aPoint ? pointIn(...point(a), b, c.pos) : pointIn(...point(b), a, c.pos);
    }
    case "DISTANCE": {
      const a = args.length === 2 ? [...point(args[0]!), ...point(args[1]!)] : args;
      if (a.length !== 4) throw sqlError("ADQL DISTANCE takes 2 points or 4 coordinates", c.pos, c.name);
      return call("scisql_angSep", a, c.pos);
    }
    case "COORD1":
    case "COORD2": {
      if (args.length !== 1) throw sqlError(`ADQL ${name} takes 1 point`, c.pos, c.name);
      return point(args[0]!)[name === "COORD1" ? 0 : 1];
    }
    case "TRUNCATE":
      return args.length === 1 ? { ...c, args: [args[0]!, integer(0)] } : c;
    default:
      if (UNSUPPORTED.has(name) || name.startsWith("IVO_")) return refuse(`function ${name}`, c.pos, c.name);
      return c;
  }
}

/** `expr [NOT] ILIKE pattern`: LIKE of both sides lower-cased. */
export function adqlILike(not: boolean, expr: Expr, pattern: Expr, pos: Pos): Expr {
  const lower = (e: Expr) => call("LOWER", [e], pos);
  return { kind: "like", not, expr: lower(expr), pattern: lower(pattern), escape: null, pos };
}
