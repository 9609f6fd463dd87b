import assert from "node:assert/strict";
import { test } from "node:test";
import { astropyColumns } from "../../src/partitioner/astropyMeta.js";
import { binTableColumns, Header, parseCards } from "../../src/partitioner/fitsHeader.js";

const card = (s: string) => s.padEnd(80, " ");

test("FITS cards: quoted strings with '' and a comment, CONTINUE'd long strings, D exponents, END", () => {
  const text = [
    "XTENSION= 'BINTABLE'           / binary table extension",
    "NAXIS1  =                   16",
    "TFIELDS =                    2",
    "TTYPE1  = 'flux    '           / the source's flux, 'calibrated'",
    "TFORM1  = 'D       '",
    "TUNIT1  = 'nJy     '",
    "TTYPE2  = 'objId   '",
    "TFORM2  = '1K'",
    "TCOMM2  = 'a very long description that goes on &'",
    "CONTINUE  'and on'",
    "TSCAL2  =               1.0D0",
    "TZERO2  =  9223372036854775808",
    "COMMENT a comment",
    "END",
    "TTYPE3  = 'after end'",
  ]
    .map(card)
    .join("");
  const h = new Header(parseCards(text));
  assert.equal(h.str("TTYPE3"), undefined);
  const [flux, id] = binTableColumns(h);
  assert.deepEqual(flux, {
    name: "flux",
    code: "D",
    repeat: 1,
    offset: 0,
    width: 8,
    unit: "nJy",
    description: "the source's flux, 'calibrated'",
  });
  assert.equal(id?.description, "a very long description that goes on and on");
  assert.equal(id?.tzero, "9223372036854775808");
  assert.equal(id?.tscal, "1.0E0");
  assert.equal(h.comments(), "a comment");
  assert.throws(
    () =>
      binTableColumns(
        new Header(parseCards(text.replace("NAXIS1  =                   16", "NAXIS1  =                   12"))),
      ),
    /NAXIS1 says 12/,
  );
});

test("astropy's serialized columns: units and descriptions, continued lines, quoted values", () => {
  const yaml = [
    "--BEGIN-ASTROPY-SERIALIZED-COLUMNS--",
    "datatype:",
    "- {name: ra, unit: deg, datatype: float64, description: Right ascensio\\",
    "n}",
    "- {name: flag, datatype: bool, description: 'set when bad, see notes'}",
    "- {name: id, datatype: int64}",
  ].join("\n");
  assert.deepEqual(Object.fromEntries(astropyColumns(yaml)), {
    ra: { unit: "deg", description: "Right ascension" },
    flag: { description: "set when bad, see notes" },
    id: {},
  });
});
