/**
 * A memo of what the last frames used: two generations of at most `size` entries each.
 * New entries go into the current one; when it is full it becomes the previous one and
 * the old previous one is dropped. A hit in the previous generation is carried over, so
 * what is on screen frame after frame stays while what scrolled away goes, and memory
 * stays bounded however long the session runs.
 */
export class RecentCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(private readonly size: number) {}

  get(key: K): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.size) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}
