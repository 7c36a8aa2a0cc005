/** `:help` in the palette (`?` is its alias). */
export const HELP_COMMAND = { name: "help", help: "Show the keys" } as const;
