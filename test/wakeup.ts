/** Test clients waiting for something to arrive: wake() lets every waiter look again. */
export class Wakeup {
  private waiters: Array<() => void> = [];

  /** Resolves on the next wake(), or after `ms` at the latest. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
