/** `:dispatch [text]` in the palette: the text, when given, fills the form's text field. */
export const DISPATCH_COMMAND = {
  name: "dispatch",
  args: "[text]",
  help: "Dispatch a task (optional text: :dispatch summarise the logs)",
  mutating: true,
} as const;
