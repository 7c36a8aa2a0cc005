// Ink's Output class, imported by path (see ink-output.ts); the package exports only its index.
// load-tui.ts and the bundle resolve this specifier to Ink's build/output.js.
declare module "ink/build/output.js" {
  export default class Output {
    width: number;
    height: number;
    constructor(options: { width: number; height: number });
    get(): { output: string; height: number };
  }
}
