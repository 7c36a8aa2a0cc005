/**
 * Spawn a process and collect what it said: the one helper tests and benchmarks share for
 * "run this to completion and give me stdout, stderr and the exit code".
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to close, from the monotonic clock. */
  ms: number;
  /** The timeout killed it (only seen with `onTimeout: "resolve"`). */
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, then stdin is closed; without it stdin is /dev/null. */
  input?: string;
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  /** "reject" (default): a timeout is an error that carries the output so far; "resolve": the result says `timedOut`. */
  onTimeout?: "reject" | "resolve";
  /** Run as this user (tests running as root). */
  user?: { uid: number; gid: number };
  /** Names the process in the timeout error (default: the arguments). */
  name?: string;
  /** Called with the child as soon as it exists (to track it for cleanup). */
  started?: (child: ChildProcess) => void;
}

/** Accumulates a child's stdout and stderr as text while it runs. */
export function collectOutput(child: ChildProcess): { stdout(): string; stderr(): string } {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return { stdout: () => stdout, stderr: () => stderr };
}

/** Runs `command args` to completion; never rejects on a non-zero exit, only on a spawn error or (by default) a timeout. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const begun = performance.now();
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...options.user,
    });
    options.started?.(child);
    const output = collectOutput(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
      if (options.onTimeout !== "resolve") {
        const name = options.name ?? args.join(" ");
        reject(new Error(`${name} did not finish\nstdout: ${output.stdout()}\nstderr: ${output.stderr()}`));
      }
    }, options.timeoutMs ?? 60_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: output.stdout(),
        stderr: output.stderr(),
        ms: performance.now() - begun,
        timedOut,
      });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A child's combined output as it arrives, and waiting for a string or pattern in it. */
export interface OutputWatch {
  output(): string;
  /** Resolves when the output contains `test`; rejects after `timeoutMs` with `describe(output)`. */
  waitFor(test: string | RegExp, timeoutMs: number, describe: (output: string) => string): Promise<void>;
}

export function watchOutput(child: ChildProcess, onChunk?: (chunk: Buffer) => void): OutputWatch {
  let output = "";
  const waiters: { test: string | RegExp; resolve: () => void }[] = [];
  const matches = (test: string | RegExp) =>
    typeof test === "string" ? output.includes(test) : test.test(output);
  const onData = (d: Buffer) => {
    output += d.toString("utf8");
    // A worker that runs for minutes: keep the recent half once it grows large.
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
    onChunk?.(d);
    for (const w of [...waiters]) {
      if (matches(w.test)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return {
    output: () => output,
    waitFor(test, timeoutMs, describe) {
      if (matches(test)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const entry = {
          test,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(entry), 1);
          reject(new Error(describe(output)));
        }, timeoutMs);
        waiters.push(entry);
      });
    },
  };
}

/** Whether a process with this pid is alive (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
