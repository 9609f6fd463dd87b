/**
 * The fault soak's query mix: point lookups, cones, boxes, full-table aggregates, GROUP BY,
 * joins and near-neighbour pairs over the demo catalog, each with the same question put to the
 * SQLite reference (qserv_areaspec_* restated as the scisql filters on every partitioned table
 * of FROM, as the czar applies them). Regions are centred on objects, so they hold rows.
 */

export interface MixQuery {
  kind: string;
  sql: string;
  reference: string;
}

const f = (x: number) => x.toFixed(4);

export function queryMix(rand: () => number, objects: number, positions: Array<[number, number]>) {
  const id = () => 1 + Math.floor(rand() * objects);
  const near = () => positions[Math.floor(rand() * positions.length)]!;
  const circle = (r: number) => {
    const [ra, dec] = near();
    return [f(ra), f(dec), f(r)].join(", ");
  };
  const box = (half: number) => {
    const [ra, dec] = near();
    const lo = Math.max(-89.9, dec - half);
    const hi = Math.min(89.9, dec + half);
    const w = Math.min(half / Math.max(0.1, Math.cos((dec * Math.PI) / 180)), 30);
    return [f(Math.max(0, ra - w)), f(lo), f(Math.min(360, ra + w)), f(hi)].join(", ");
  };
  const areaspec = (kind: "circle" | "box", args: string, ...on: Array<[string, string]>) => ({
    q: `qserv_areaspec_${kind}(${args})`,
    r: on
      .map(([lon, lat]) => `scisql_s2PtIn${kind === "circle" ? "Circle" : "Box"}(${lon}, ${lat}, ${args}) = 1`)
      .join(" AND "),
  });
  const same = (kind: string, sql: string): MixQuery => ({ kind, sql, reference: sql });
  /** A query whose WHERE is `a`: areaspec for the czar, scisql filters for the reference. */
  const within = (kind: string, a: { q: string; r: string }, sql: (where: string) => string): MixQuery => ({
    kind,
    sql: sql(a.q),
    reference: sql(a.r),
  });
  const kinds: Array<() => MixQuery> = [
    () => same("point", `SELECT objectId, ra, decl, flags FROM Object WHERE objectId = ${id()}`),
    () => same("point", `SELECT sourceId, objectId, filterId, psfFlux FROM Source WHERE objectId = ${id()}`),
    () => {
      const ids = Array.from({ length: 1 + Math.floor(rand() * 20) }, id).join(", ");
      return same(
        "point",
        `SELECT objectId, COUNT(*), SUM(sourceId) FROM Source WHERE objectId IN (${ids}) GROUP BY objectId`,
      );
    },
    () =>
      within(
        "cone",
        areaspec("circle", circle(0.5 + rand() * 3), ["ra", "decl"]),
        (w) => `SELECT objectId, ra, decl FROM Object WHERE ${w}`,
      ),
    () =>
      within(
        "cone",
        areaspec("circle", circle(0.5 + rand() * 5), ["raObject", "declObject"]),
        (w) => `SELECT COUNT(*), SUM(sourceId), MIN(psfFlux) FROM Source WHERE ${w}`,
      ),
    () =>
      within(
        "box",
        areaspec("box", box(0.5 + rand() * 3), ["ra", "decl"]),
        (w) => `SELECT objectId, decl FROM Object WHERE ${w}`,
      ),
    () =>
      within(
        "box",
        areaspec("box", box(0.5 + rand() * 2), ["raObject", "declObject"]),
        (w) => `SELECT sourceId, objectId FROM Source WHERE ${w}`,
      ),
    () => same("aggregate", "SELECT COUNT(*), SUM(sourceId), MIN(taiMidPoint), MAX(psfFlux) FROM Source"),
    () => same("aggregate", "SELECT COUNT(*), SUM(flags), MIN(ra), MAX(decl) FROM Object"),
    () => same("group by", "SELECT filterId, COUNT(*), SUM(sourceId), MAX(taiMidPoint) FROM Source GROUP BY filterId"),
    () =>
      within(
        "group by",
        areaspec("box", box(2 + rand() * 8), ["raObject", "declObject"]),
        (w) => `SELECT filterId, COUNT(*), SUM(objectId) FROM Source WHERE ${w} GROUP BY filterId`,
      ),
    () =>
      within(
        "join",
        areaspec("box", box(1 + rand() * 4), ["o.ra", "o.decl"], ["s.raObject", "s.declObject"]),
        (w) =>
          `SELECT o.objectId, COUNT(*), SUM(s.sourceId) FROM Object o JOIN Source s ON o.objectId = s.objectId WHERE ${w} GROUP BY o.objectId`,
      ),
    () => {
      const d = f(0.005 + rand() * 0.01);
      const a = areaspec("box", box(1 + rand() * 2), ["o1.ra", "o1.decl"], ["o2.ra", "o2.decl"]);
      // The reference also bounds o2's declination (implied by the distance): an index range, not n².
      const band = `o2.decl BETWEEN o1.decl - ${d} AND o1.decl + ${d}`;
      return within(
        "near neighbour",
        { q: a.q, r: `${a.r} AND ${band}` },
        (w) =>
          `SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE ${w} AND scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < ${d} AND o1.objectId <> o2.objectId`,
      );
    },
  ];
  return (): MixQuery => kinds[Math.floor(rand() * kinds.length)]!();
}
