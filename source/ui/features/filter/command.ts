/** `:nodes [filter]` and `:tasks [filter]` in the palette: show a table, optionally filtered. */
export const NODES_COMMAND = {
  name: "nodes",
  args: "[filter]",
  help: "Show the nodes table (optional filter: :nodes state:online)",
} as const;

export const TASKS_COMMAND = {
  name: "tasks",
  args: "[filter]",
  help: "Show the tasks table (optional filter: :tasks state:failed)",
} as const;
