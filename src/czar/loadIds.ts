/** Load ids ("db.table.hash") and the stages their rows go to on the workers ("Lhash"). */

/** The stage a load goes to on the workers: named for its load id. */
export function stageOfLoad(loadId: string): string {
  return `L${loadId.slice(loadId.lastIndexOf(".") + 1)}`;
}

/** The load id of a table's stage (stageOfLoad's inverse). */
export function loadIdOfStage(db: string, table: string, stage: string): string {
  return `${db}.${table}.${stage.slice(1)}`;
}
