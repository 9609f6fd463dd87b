import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Deterministic 32-bit PRNG (mulberry32): the same seed gives the same catalog everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  outDir: string;
  objects: number;
  /** Mean detections per object in the Source table (0: no Source table). */
  sourcesPerObject?: number;
  seed?: number;
  numStripes?: number;
  numSubStripes?: number;
  overlap?: number;
  database?: string;
  /** Fraction of objects in dense clusters (skews chunk sizes). */
  clusterFraction?: number;
  /** Fraction of objects also in the second director table Hsc, at shifted positions (0: no Hsc). */
  hscFraction?: number;
}

export interface GeneratedCatalog {
  databaseJson: string;
  objectJson: string;
  objectCsv: string;
  sourceJson: string | null;
  sourceCsv: string | null;
  hscJson: string | null;
  hscCsv: string | null;
  objects: number;
  sources: number;
  hsc: number;
}

const BANDS = ["u", "g", "r", "i", "z"] as const;

/** Object columns: id, position, per-band flux and error, flags: 14 columns. */
export const OBJECT_COLUMNS: Array<[string, string]> = [
  ["objectId", "bigint(20) NOT NULL"],
  ["ra", "double NOT NULL"],
  ["decl", "double NOT NULL"],
  ...BANDS.flatMap(
    (b): Array<[string, string]> => [
      [`${b}Flux`, "double DEFAULT NULL"],
      [`${b}FluxErr`, "float DEFAULT NULL"],
    ],
  ),
  ["flags", "int(11) NOT NULL"],
];

/** A second catalog ("HSC"): its own director table in the same partitioning, matched to Object by position. */
export const HSC_COLUMNS: Array<[string, string]> = [
  ["hscId", "bigint(20) NOT NULL"],
  ["ra", "double NOT NULL"],
  ["decl", "double NOT NULL"],
  ["iFlux", "double DEFAULT NULL"],
];

/** Standard deviation of an Hsc position about its object's, per coordinate: 0.2″. */
export const HSC_SHIFT_DEG = 0.2 / 3600;

export const SOURCE_COLUMNS: Array<[string, string]> = [
  ["sourceId", "bigint(20) NOT NULL"],
  ["objectId", "bigint(20) NOT NULL"],
  ["ra", "double NOT NULL"],
  ["decl", "double NOT NULL"],
  ["raObject", "double NOT NULL"],
  ["declObject", "double NOT NULL"],
  ["filterId", "tinyint(4) NOT NULL"],
  ["taiMidPoint", "double NOT NULL"],
  ["psfFlux", "double DEFAULT NULL"],
  ["psfFluxErr", "float DEFAULT NULL"],
];

/** Units, UCDs and descriptions of the demo columns (optional config fields, shown through TAP). */
const COLUMN_META: Record<string, { unit?: string; ucd: string; description: string }> = {
  objectId: { ucd: "meta.id;meta.main", description: "Unique object id" },
  sourceId: { ucd: "meta.id", description: "Unique source id" },
  ra: { unit: "deg", ucd: "pos.eq.ra;meta.main", description: "Right ascension (ICRS)" },
  decl: { unit: "deg", ucd: "pos.eq.dec;meta.main", description: "Declination (ICRS)" },
  raObject: { unit: "deg", ucd: "pos.eq.ra", description: "Right ascension of the source's object" },
  declObject: { unit: "deg", ucd: "pos.eq.dec", description: "Declination of the source's object" },
  filterId: { ucd: "meta.id;instr.filter", description: "Filter of the observation" },
  taiMidPoint: { unit: "d", ucd: "time.epoch", description: "Mid-exposure time (MJD, TAI)" },
  psfFlux: { unit: "nJy", ucd: "phot.flux", description: "PSF flux" },
  psfFluxErr: { unit: "nJy", ucd: "stat.error;phot.flux", description: "PSF flux error" },
  hscId: { ucd: "meta.id;meta.main", description: "Unique HSC object id" },
  iFlux: { unit: "nJy", ucd: "phot.flux", description: "HSC i-band flux" },
  flags: { ucd: "meta.code", description: "Bit flags" },
  ...Object.fromEntries(
    BANDS.flatMap((b) => [
      [`${b}Flux`, { unit: "nJy", ucd: "phot.flux", description: `${b}-band flux` }],
      [`${b}FluxErr`, { unit: "nJy", ucd: "stat.error;phot.flux", description: `${b}-band flux error` }],
    ]),
  ),
};

const DESCRIPTIONS: Record<string, string> = {
  Object: "Synthetic objects (demo catalog)",
  Source: "Synthetic sources of the objects (demo catalog)",
  Hsc: "A second synthetic catalog: a subsample of the objects at shifted positions",
};

function tableJson(
  db: string,
  table: string,
  cols: Array<[string, string]>,
  director: string,
  lon: string,
  lat: string,
  key = "objectId",
) {
  return {
    version: 12,
    database: db,
    table,
    is_partitioned: 1,
    director_table: director,
    director_key: key,
    longitude_key: lon,
    latitude_key: lat,
    description: DESCRIPTIONS[table],
    schema: [
      ...cols.map(([name, type]) => ({ name, type, ...COLUMN_META[name] })),
      { name: "chunkId", type: "int(11) NOT NULL" },
      { name: "subChunkId", type: "int(11) NOT NULL" },
    ],
  };
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}

/**
 * Write a synthetic Object (and Source) catalog as CSV plus Qserv ingest configs. Positions are
 * uniform on the sphere, except `clusterFraction` of them in Gaussian clusters; memory is flat.
 */
export async function generateCatalog(o: GenerateOptions): Promise<GeneratedCatalog> {
  const db = o.database ?? "demo";
  const rnd = prng(o.seed ?? 42);
  mkdirSync(o.outDir, { recursive: true });
  const paths = {
    databaseJson: join(o.outDir, "database.json"),
    objectJson: join(o.outDir, "Object.json"),
    objectCsv: join(o.outDir, "Object.csv"),
    sourceJson: o.sourcesPerObject ? join(o.outDir, "Source.json") : null,
    sourceCsv: o.sourcesPerObject ? join(o.outDir, "Source.csv") : null,
    hscJson: o.hscFraction ? join(o.outDir, "Hsc.json") : null,
    hscCsv: o.hscFraction ? join(o.outDir, "Hsc.csv") : null,
  };
  writeFileSync(
    paths.databaseJson,
    `${JSON.stringify({ version: 12, database: db, num_stripes: o.numStripes ?? 85, num_sub_stripes: o.numSubStripes ?? 12, overlap: o.overlap ?? 0.01667 }, null, 2)}\n`,
  );
  writeFileSync(
    paths.objectJson,
    `${JSON.stringify(tableJson(db, "Object", OBJECT_COLUMNS, "", "ra", "decl"), null, 2)}\n`,
  );
  if (paths.sourceJson) {
    writeFileSync(
      paths.sourceJson,
      `${JSON.stringify(tableJson(db, "Source", SOURCE_COLUMNS, "Object", "raObject", "declObject"), null, 2)}\n`,
    );
  }
  if (paths.hscJson) {
    writeFileSync(
      paths.hscJson,
      `${JSON.stringify(tableJson(db, "Hsc", HSC_COLUMNS, "", "ra", "decl", "hscId"), null, 2)}\n`,
    );
  }
  const clusters = Array.from({ length: 20 }, () => ({
    ra: rnd() * 360,
    dec: Math.asin(2 * rnd() - 1) * (180 / Math.PI) * 0.8,
    sigma: 0.2 + rnd() * 1.5,
  }));
  const clusterFraction = o.clusterFraction ?? 0.3;
  const objects = createWriteStream(paths.objectCsv);
  const sources = paths.sourceCsv ? createWriteStream(paths.sourceCsv) : null;
  const hsc = paths.hscCsv ? createWriteStream(paths.hscCsv) : null;
  // Its own generator: Object and Source stay the rows they were without Hsc.
  const hrnd = prng((o.seed ?? 42) + 1);
  const hgauss = () => Math.sqrt(-2 * Math.log(hrnd() + 1e-300)) * Math.cos(2 * Math.PI * hrnd());
  let sourceId = 1;
  let hscId = 1;
  let batch = "";
  let sbatch = "";
  let hbatch = "";
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-300)) * Math.cos(2 * Math.PI * rnd());
  for (let i = 1; i <= o.objects; i++) {
    let ra: number;
    let dec: number;
    if (rnd() < clusterFraction) {
      const c = clusters[Math.floor(rnd() * clusters.length)] as (typeof clusters)[number];
      dec = Math.max(-90, Math.min(90, c.dec + gauss() * c.sigma));
      ra = (((c.ra + (gauss() * c.sigma) / Math.max(0.05, Math.cos((dec * Math.PI) / 180))) % 360) + 360) % 360;
    } else {
      ra = rnd() * 360;
      dec = Math.asin(2 * rnd() - 1) * (180 / Math.PI);
    }
    let row = `${i},${ra.toFixed(7)},${dec.toFixed(7)}`;
    for (let b = 0; b < BANDS.length; b++) {
      if (rnd() < 0.02) row += ",\\N,\\N";
      else {
        const flux = 10 ** (-0.4 * (18 + rnd() * 8 + 48.6));
        row += `,${flux.toExponential(6)},${(flux * (0.01 + rnd() * 0.1)).toExponential(4)}`;
      }
    }
    row += `,${Math.floor(rnd() * 1024)}\n`;
    batch += row;
    if (sources !== null) {
      const n = Math.floor(rnd() * 2 * (o.sourcesPerObject ?? 0) + 0.5);
      for (let k = 0; k < n; k++) {
        const sdec = Math.max(-90, Math.min(90, dec + gauss() * 1e-4));
        const sra = (ra + 360 + (gauss() * 1e-4) / Math.max(0.01, Math.cos((dec * Math.PI) / 180))) % 360;
        const flux = 10 ** (-0.4 * (18 + rnd() * 8 + 48.6));
        sbatch += `${sourceId++},${i},${sra.toFixed(7)},${sdec.toFixed(7)},${ra.toFixed(7)},${dec.toFixed(7)},${Math.floor(rnd() * 5)},${(50000 + rnd() * 3650).toFixed(6)},${flux.toExponential(6)},${(flux * 0.05).toExponential(4)}\n`;
      }
    }
    if (hsc !== null && hrnd() < (o.hscFraction ?? 0)) {
      const hdec = Math.max(-90, Math.min(90, dec + hgauss() * HSC_SHIFT_DEG));
      const hra = (ra + 360 + (hgauss() * HSC_SHIFT_DEG) / Math.max(0.01, Math.cos((dec * Math.PI) / 180))) % 360;
      hbatch += `${hscId++},${hra.toFixed(7)},${hdec.toFixed(7)},${(10 ** (-0.4 * (18 + hrnd() * 8 + 48.6))).toExponential(6)}\n`;
    }
    if (batch.length > 1 << 20) {
      await write(objects, batch);
      batch = "";
    }
    if (hsc !== null && hbatch.length > 1 << 20) {
      await write(hsc, hbatch);
      hbatch = "";
    }
    if (sources !== null && sbatch.length > 1 << 20) {
      await write(sources, sbatch);
      sbatch = "";
    }
  }
  await write(objects, batch);
  objects.end();
  await once(objects, "finish");
  if (sources !== null) {
    await write(sources, sbatch);
    sources.end();
    await once(sources, "finish");
  }
  if (hsc !== null) {
    await write(hsc, hbatch);
    hsc.end();
    await once(hsc, "finish");
  }
  return { ...paths, objects: o.objects, sources: sourceId - 1, hsc: hscId - 1 };
}
