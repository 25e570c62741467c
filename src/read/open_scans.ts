// The scans a reader has open, released at the database's close: a doubly
// linked list through the scans' own resources objects. A scan is added and
// removed once each, and a short scan is mostly setup: a Set's add and delete
// (an identity hash per new object, a rehash as the set shrinks) cost more
// than the links.

/**
 * What a tracked scan holds: something to release, and its links in the
 * list (OpenScans owns them).
 *
 * @example
 * ```ts
 * class Resources extends TrackedScan {
 *   release(): void {}
 * }
 * const open = new OpenScans();
 * const r = new Resources();
 * open.add(r);
 * open.remove(r);
 * ```
 */
export abstract class TrackedScan {
  /** @internal */
  prevScan: TrackedScan | undefined;
  /** @internal */
  nextScan: TrackedScan | undefined;

  /** Frees what the scan holds (it calls OpenScans.remove). Idempotent. */
  abstract release(): void;
}

/**
 * The open scans of a reader.
 *
 * @example
 * ```ts
 * declare const scan: TrackedScan;
 * const open = new OpenScans();
 * open.add(scan);
 * console.log(open.size); // 1
 * open.releaseAll(); // at close: every scan's release(), which removes it
 * ```
 */
export class OpenScans {
  #head: TrackedScan | undefined;
  #size = 0;

  /** Scans open now. */
  get size(): number {
    return this.#size;
  }

  /** Adds a scan; nothing if it is in the list already. */
  add(scan: TrackedScan): void {
    if (this.#holds(scan)) return;
    scan.prevScan = undefined;
    scan.nextScan = this.#head;
    if (this.#head !== undefined) this.#head.prevScan = scan;
    this.#head = scan;
    this.#size++;
  }

  /** Removes a scan; nothing if it is not in the list. */
  remove(scan: TrackedScan): void {
    if (!this.#holds(scan)) return;
    const { prevScan, nextScan } = scan;
    if (prevScan !== undefined) prevScan.nextScan = nextScan;
    else this.#head = nextScan;
    if (nextScan !== undefined) nextScan.prevScan = prevScan;
    scan.prevScan = scan.nextScan = undefined;
    this.#size--;
  }

  /** Releases every open scan (each release removes its scan from the list). */
  releaseAll(): void {
    for (let scan = this.#head; scan !== undefined;) {
      const next = scan.nextScan;
      scan.release();
      this.remove(scan); // in case release did not
      scan = next;
    }
  }

  /** True when scan is in this list (only the head has no previous link). */
  #holds(scan: TrackedScan): boolean {
    return scan.prevScan !== undefined || this.#head === scan;
  }
}
