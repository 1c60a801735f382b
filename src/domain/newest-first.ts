/**
 * An immutable list, newest first. Adding shares the whole list before it, so a grant's
 * thousandth token or rotation costs what its first did: copying an array or an object
 * on every event made a long-lived grant slower with each refresh.
 */
export type NewestFirst<T> = { readonly head: T; readonly rest: NewestFirst<T> } | null;

export const prepend = <T>(list: NewestFirst<T>, head: T): NewestFirst<T> => ({ head, rest: list });

export function* itemsOf<T>(list: NewestFirst<T>): Generator<T> {
  for (let node = list; node; node = node.rest) yield node.head;
}

export function findIn<T>(list: NewestFirst<T>, found: (item: T) => boolean): T | undefined {
  for (let node = list; node; node = node.rest) if (found(node.head)) return node.head;
  return undefined;
}
