/** Waits that end early when woken (going online, closing, new work). */
export class Sleeper {
  #wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }
}
