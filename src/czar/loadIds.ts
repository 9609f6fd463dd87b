/** Load ids ("db.table.hash") and the stages their rows go to on the workers ("Lhash"). */

/** The stage a load goes to on the workers: named for its load id. */
export function stageOfLoad(loadId: string): string {
  return `L${loadId.slice(loadId.lastIndexOf(".") + 1)}`;
}

/** The load id of a table's stage (stageOfLoad's inverse). */
export function loadIdOfStage(db: string, table: string, stage: string): string {
  return `${db}.${table}.${stage.slice(1)}`;
}

/** Stages by chunk, then table. */
export type StagesByChunk = Map<number, Map<string, string[]>>;

/** Adds `stage` to the list of a chunk's table. */
export function addStage(to: StagesByChunk, chunkId: number, table: string, stage: string): void {
  const byTable = to.get(chunkId) ?? new Map<string, string[]>();
  to.set(chunkId, byTable);
  const list = byTable.get(table) ?? [];
  list.push(stage);
  byTable.set(table, list);
}
