// A progress display for long commands (load, export, bench, the main job):
// count, rate, percentage and ETA when the end is known, and optionally the
// memory in use. On a terminal it redraws one line ten times a second; when
// the output is not a terminal or CI is set, it prints a plain line every
// two seconds and a last one at the end.

import { formatCount } from "./display.ts";
import type { Output } from "./io.ts";

/** How a progress display is set up. */
export interface ProgressOptions {
  /** What the count counts ("keys", "records"). */
  unit: string;
  /** The count at the end, when known (else pass a fraction to update()). */
  total?: number;
  /** Text appended to each line (e.g. memory figures); called when a line is drawn. */
  extra?: () => string;
}

const BAR = 24;

/**
 * Progress of one long step.
 *
 * @example
 * ```ts
 * import { stdout } from "./io.ts";
 * const progress = new Progress(stdout, "load", { unit: "keys", total: 1_000_000 });
 * for (let i = 0; i < 1_000_000; i++) progress.update(i + 1);
 * await progress.finish();
 * ```
 */
export class Progress {
  readonly #out: Output;
  readonly #label: string;
  readonly #o: ProgressOptions;
  readonly #started = performance.now();
  readonly #every: number;
  #last = 0;
  #count = 0;
  #fraction: number | undefined;
  #drawn = false;

  constructor(out: Output, label: string, options: ProgressOptions) {
    this.#out = out;
    this.#label = label;
    this.#o = options;
    this.#every = out.interactive ? 100 : 2000;
    this.#last = this.#started;
  }

  /** Records the count so far (and the fraction done, if the total count is unknown); draws when due. */
  update(count: number, fraction?: number): void {
    this.#count = count;
    this.#fraction = fraction;
    const now = performance.now();
    if (now - this.#last < this.#every) return;
    this.#last = now;
    void this.#out.write(this.#out.interactive ? `\r${this.#line(now, false)}\x1b[K` : `${this.#line(now, false)}\n`);
    this.#drawn = true;
  }

  /** Draws the final line (with the final count, if given). */
  async finish(count?: number): Promise<void> {
    if (count !== undefined) this.#count = count;
    const line = this.#line(performance.now(), true);
    await this.#out.write(this.#out.interactive && this.#drawn ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  /** Seconds since the start. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #line(now: number, done: boolean): string {
    const seconds = Math.max((now - this.#started) / 1000, 1e-6);
    const rate = this.#count / seconds;
    const total = this.#o.total;
    const fraction = done ? 1 : total !== undefined && total > 0 ? Math.min(1, this.#count / total) : this.#fraction;
    const parts: string[] = [];
    let head = `${this.#label}: ${formatCount(this.#count)}${
      total !== undefined ? `/${formatCount(total)}` : ""
    } ${this.#o.unit}`;
    if (fraction !== undefined) {
      head = this.#out.interactive
        ? `${this.#label} [${"#".repeat(Math.round(fraction * BAR)).padEnd(BAR, "-")}] ${
          (fraction * 100).toFixed(0).padStart(3)
        }% ${head.slice(this.#label.length + 2)}`
        : `${head} (${(fraction * 100).toFixed(0)}%)`;
    }
    parts.push(head, `${formatCount(rate)} ${this.#o.unit}/s`);
    if (done) parts.push(`${seconds.toFixed(1)} s`);
    else if (fraction !== undefined && fraction > 0) {
      parts.push(`ETA ${formatSeconds(seconds * (1 - fraction) / fraction)}`);
    }
    const extra = this.#o.extra?.();
    if (extra) parts.push(extra);
    return parts.join(", ");
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.ceil(s % 60)).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
