/** Many shared holders or one exclusive holder at a time, served in arrival order. */
export class Gate {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: Array<{ kind: "shared" | "exclusive"; go: () => void }> = [];

  async run<T>(kind: "shared" | "exclusive", fn: () => Promise<T>): Promise<T> {
    if (this.waiting.length > 0 || !this.free(kind)) await new Promise<void>((go) => this.waiting.push({ kind, go }));
    else this.take(kind);
    try {
      return await fn();
    } finally {
      if (kind === "shared") this.shared--;
      else this.exclusive = false;
      this.wake();
    }
  }

  private free(kind: "shared" | "exclusive"): boolean {
    return !this.exclusive && (kind === "shared" || this.shared === 0);
  }

  private take(kind: "shared" | "exclusive"): void {
    if (kind === "shared") this.shared++;
    else this.exclusive = true;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.free(this.waiting[0]!.kind)) {
      const w = this.waiting.shift()!;
      this.take(w.kind);
      w.go();
    }
  }
}
