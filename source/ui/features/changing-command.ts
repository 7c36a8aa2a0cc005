/** A palette command that changes the federation: hidden from suggestions, refused in a read-only session. */
export function changingCommand<const N extends string>(name: N, help: string) {
  return { name, help, mutating: true } as const;
}
