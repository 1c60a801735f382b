export interface Item {
  id: number;
  title: string;
}

/** The resource server's own data: each user's list of items (a stand-in for real resources). */
export class ItemsStore {
  private readonly items = new Map<string, Item[]>();

  list(userId: string, username: string): Item[] {
    let items = this.items.get(userId);
    if (!items) {
      items = [
        { id: 1, title: `Welcome, ${username}` },
        { id: 2, title: 'Read RFC 6749' },
        { id: 3, title: 'Replay the grant history' },
      ];
      this.items.set(userId, items);
    }
    return items;
  }
}
