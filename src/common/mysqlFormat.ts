/**
 * Numbers as MySQL prints them in text: DOUBLEs in their shortest round-trip digits, positional
 * for exponents -15..14 and `1e15` / `1.5e-20` beyond (my_gcvt), or with a fixed count of
 * decimals where the type has one (ROUND(x, 2), PI()); DECIMALs with exactly their scale.
 */

/** Decimals meaning "not fixed": the shortest form. */
const NOT_FIXED = 31;

/** A DOUBLE as MySQL's text protocol and CAST(... AS CHAR) print it. */
export function formatDouble(x: number, decimals = NOT_FIXED): string {
  if (!Number.isFinite(x)) return String(x);
  if (decimals < NOT_FIXED && Math.abs(x) < 1e21) return (x || 0).toFixed(decimals);
  if (x === 0) return "0";
  const [mant = "0", exp = "0"] = x.toExponential().split("e");
  const e = Number(exp);
  const neg = mant.startsWith("-");
  const digits = mant.replace(/^-/, "").replace(".", "");
  let body: string;
  if (e < -15 || e >= 15) body = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${e}`;
  else if (e < 0) body = `0.${"0".repeat(-e - 1)}${digits}`;
  else if (digits.length <= e + 1) body = digits + "0".repeat(e + 1 - digits.length);
  else body = `${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  return neg ? `-${body}` : body;
}

/** An exact decimal text (digits, optional sign and point) at `scale` digits, half away from zero. */
function decimalText(s: string, scale: number): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (m === null) return s;
  const [, sign = "", int = "0", frac = ""] = m;
  let units = BigInt((int || "0") + frac.padEnd(scale, "0").slice(0, scale));
  if (frac.length > scale && Number(frac[scale]) >= 5) units += 1n;
  const digits = units.toString().padStart(scale + 1, "0");
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return units === 0n ? body : `${sign}${body}`;
}

/** A DECIMAL value (bigint, a double, or exact digits in text) printed with `scale` decimals. */
export function formatDecimal(v: number | bigint | string, scale: number): string {
  if (typeof v === "bigint") return scale === 0 ? v.toString() : `${v}.${"0".repeat(scale)}`;
  if (typeof v === "string") return decimalText(v.trim(), scale);
  if (!Number.isFinite(v)) return String(v);
  // The double's own shortest digits, rounded as an exact decimal.
  const text = formatDouble(v);
  return /e/.test(text) ? (v || 0).toFixed(Math.min(scale, 100)) : decimalText(text, scale);
}
