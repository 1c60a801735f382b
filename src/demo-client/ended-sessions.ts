/** How many ended sign-in sessions the demo client remembers: its memory stays bounded whatever it is sent. */
const CAPACITY = 10_000;

/**
 * The sign-in sessions (sid) a back-channel logout said have ended: a session cookie naming
 * one is over. Only valid logout tokens add to it, and the oldest go first beyond the
 * capacity (a session older than that many logouts is long expired in the demo anyway).
 */
export class EndedSessions {
  private readonly ids = new Set<string>();

  add(sid: string): void {
    this.ids.delete(sid);
    this.ids.add(sid);
    if (this.ids.size > CAPACITY) this.ids.delete(this.ids.values().next().value!);
  }

  has(sid: string): boolean {
    return this.ids.has(sid);
  }
}
