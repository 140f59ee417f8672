/**
 * Progress of a long command, on stderr so that `--json` on stdout stays clean. On a terminal one status
 * line is rewritten in place (at most every 100 ms); elsewhere (a pipe, a log file) `tick` prints a plain
 * line at most every 5 s and `line` always prints one, so a log shows that work goes on without flooding.
 */
export interface Progress {
  /** The current state; shown now on a terminal (throttled), sometimes elsewhere. */
  tick(text: string): void;
  /** A line that stays (e.g. a finished step). */
  line(text: string): void;
  /** Clears the status line (a terminal); call before printing the result. */
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, { prefix = 'oauthd: ' } = {}): Progress {
  const tty = stream.isTTY === true;
  const interval = tty ? 100 : 5000;
  // Elsewhere the first status waits 5 s too: a short run prints only its lines.
  let last = tty ? 0 : Date.now();
  let shown = false;
  const clear = () => {
    if (tty && shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    tick(text) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      if (tty) {
        stream.write(`\r\x1b[K${prefix}${text}`);
        shown = true;
      } else {
        stream.write(`${prefix}${text}\n`);
      }
    },
    line(text) {
      clear();
      stream.write(`${prefix}${text}\n`);
    },
    done: clear,
  };
}
