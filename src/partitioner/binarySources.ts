import type { BinaryOptions, BinarySource } from "./binaryRows.js";
import { openFits } from "./fitsSource.js";
import type { InputFormat } from "./inputFormat.js";
import { openParquet } from "./parquetSource.js";

/** The reader of a binary input format. */
export function openBinarySource(
  file: string,
  format: Exclude<InputFormat, "text">,
  o: BinaryOptions,
): Promise<BinarySource> {
  return format === "parquet" ? openParquet(file, o) : openFits(file, o);
}
