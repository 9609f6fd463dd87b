/** One holder per key at a time; the others wait in arrival order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves, once the key is free, to the function that frees it again. */
  async acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
