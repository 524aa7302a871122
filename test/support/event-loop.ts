// How long this thread's event loop was held: the longest gap between ticks of a short timer.

export type EventLoopWatch = {
  /** Stops the timer; the longest gap seen, in ms. */
  stop(): number;
};

export function watchEventLoop(everyMs = 5): EventLoopWatch {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(tick);
      return longest;
    },
  };
}
