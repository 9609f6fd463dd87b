/**
 * One readers–writer lock per database: queries hold their database shared from planning to
 * the last row; publishing a table load holds it alone, so a query sees all of a load or none
 * of it. Waiters are served in arrival order (a publish waits for the queries before it, the
 * queries after it wait for the publish), so neither side starves.
 */
export class DatabaseLocks {
  private readonly locks = new Map<string, Lock>();

  /** Resolves, once no publish holds or awaits the database, to the function that releases it. */
  shared(db: string): Promise<() => void> {
    return this.lock(db).acquire(false);
  }

  /** Resolves, once nothing else holds the database, to the function that releases it. */
  exclusive(db: string): Promise<() => void> {
    return this.lock(db).acquire(true);
  }

  private lock(db: string): Lock {
    let l = this.locks.get(db);
    if (l === undefined) {
      l = new Lock(() => this.locks.delete(db));
      this.locks.set(db, l);
    }
    return l;
  }
}

class Lock {
  private readers = 0;
  private writer = false;
  private readonly queue: Array<{ exclusive: boolean; grant: () => void }> = [];

  constructor(private readonly onIdle: () => void) {}

  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.queue.push({
        exclusive,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (exclusive) this.writer = false;
            else this.readers--;
            this.next();
          });
        },
      });
      this.next();
    });
  }

  private next(): void {
    for (let w = this.queue[0]; w !== undefined && !this.writer; w = this.queue[0]) {
      if (w.exclusive && this.readers > 0) return;
      this.queue.shift();
      if (w.exclusive) this.writer = true;
      else this.readers++;
      w.grant();
    }
    if (!this.writer && this.readers === 0 && this.queue.length === 0) this.onIdle();
  }
}
