/** `:audit` in the palette: who did what, from the audit log (read through the port). */
export const AUDIT_COMMAND = {
  name: "audit",
  help: "Who did what: the audit log (newest last)",
  listed: false,
} as const;
