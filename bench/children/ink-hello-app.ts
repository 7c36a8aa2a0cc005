/** The one-line Ink app of ink-hello.ts, loaded after its restart for the heap flags. */
import { render, Text, useApp, useInput } from "ink";
import { createElement } from "react";

function Hello() {
  const { exit } = useApp();
  useInput((input) => {
    if (input === "q") exit();
  });
  return createElement(Text, null, "Ink reference: one line");
}

// The control center's own render options (source/ui/run-tui.tsx): drawn on a terminal even
// where CI is set, on the alternate screen.
await render(createElement(Hello), {
  interactive: Boolean(process.stdout.isTTY),
  alternateScreen: true,
  patchConsole: false,
  maxFps: 60,
  incrementalRendering: true,
}).waitUntilExit();
