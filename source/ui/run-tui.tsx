// First: decides React's build before Ink loads React (see production.ts).
import "./production.js";
import { type Instance, render } from "ink";
import { createElement } from "react";
import type { FederationApi } from "../core/domain/federation-types.js";
import { App } from "./app.js";
import { resolveKeymap } from "./keymap.js";
import {
  LEAVE_ALTERNATE_SCREEN,
  RESTORE_TITLE,
  releaseRawMode,
  SAVE_TITLE,
  SHOW_CURSOR,
  writeQuietly,
} from "./terminal.js";
import { createTheme, noColorRequested, ThemeContext } from "./theme.js";

export interface TuiOptions {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Hide and refuse dispatch, retry, cancel and discovery (shared screens). */
  readonly?: boolean;
  /** Rebinding from the config: action → key(s). Unknown names are reported in the status line. */
  keys?: Record<string, string | string[]>;
  title?: string;
  /** Default: the NO_COLOR environment variable. */
  noColor?: boolean;
  /**
   * Restore the terminal on SIGINT/SIGTERM/SIGHUP (default true). After
   * restoring, a signal nobody else listens for is raised again so the
   * process ends as it would have. An SSH server that handles signals itself
   * can turn this off per session.
   */
  handleSignals?: boolean;
  /**
   * Diagnostics (benchmarks): called after every frame Ink writes. `renderTime`
   * is Ink's own layout and output; `frameTime`, when a key or a snapshot caused
   * the frame, runs from the moment the App took it in to the frame's write:
   * reducer, React, layout and output together.
   */
  onRender?: (metrics: FrameMetrics) => void;
}

export interface FrameMetrics {
  renderTime: number;
  frameTime?: number;
  /** CPU time (user + system, whole process) over the same span as frameTime, in ms. */
  frameCpuTime?: number;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Run the full-screen control center on the given streams until the user
 * quits. The terminal is always given back as it was (main screen, cursor
 * shown, raw mode off, its title): on quit, on an exception, on a signal, and when the
 * output stream closes. No process-wide state besides the optional signal
 * listeners, so many sessions can run side by side.
 */
export async function runTui(api: FederationApi, options: TuiOptions): Promise<void> {
  const { stdin, stdout } = options;
  // From the stream itself, never from CI: Ink would turn itself off under CI=true.
  const interactive = Boolean(stdout.isTTY);
  const keymap = resolveKeymap(options.keys ?? {});
  const theme = createTheme(options.noColor ?? noColorRequested(process.env));

  // When the App took in the change the next frame shows (first one wins until that frame is out).
  let changedAt: number | undefined;
  let cpuAt: NodeJS.CpuUsage | undefined;
  const onChange = options.onRender
    ? (startedAt: number) => {
        if (changedAt !== undefined) return;
        changedAt = startedAt;
        cpuAt = process.cpuUsage();
      }
    : undefined;
  const onRender = options.onRender
    ? ({ renderTime }: { renderTime: number }) => {
        const frameTime = changedAt === undefined ? undefined : performance.now() - changedAt;
        const cpu = cpuAt === undefined ? undefined : process.cpuUsage(cpuAt);
        changedAt = undefined;
        cpuAt = undefined;
        options.onRender?.({
          renderTime,
          ...(frameTime === undefined ? {} : { frameTime }),
          ...(cpu === undefined ? {} : { frameCpuTime: (cpu.user + cpu.system) / 1000 }),
        });
      }
    : undefined;

  return new Promise<void>((resolve, reject) => {
    let instance: Instance | undefined;
    let settled = false;
    const cleanups: (() => void)[] = [];

    const restore = () => {
      let unmounted = false;
      try {
        instance?.unmount();
        unmounted = true;
      } catch {
        // fall through to the manual restore below
      }
      if (interactive) {
        // Ink leaves the alternate screen itself on a clean unmount; only repeat it if that failed.
        writeQuietly(stdout, `${unmounted ? "" : LEAVE_ALTERNATE_SCREEN}${SHOW_CURSOR}${RESTORE_TITLE}`);
      }
      releaseRawMode(stdin);
    };

    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      restore();
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (error === undefined) resolve();
      else reject(error);
    };

    if (options.handleSignals !== false) {
      for (const signal of SIGNALS) {
        const onSignal = () => {
          finish();
          // Nobody else wants this signal: end the process the way the signal would have.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        };
        process.on(signal, onSignal);
        cleanups.push(() => process.off(signal, onSignal));
      }
    }

    // Lost connection: the terminal is gone, there is nothing left to draw on.
    // A write or read error (EIO, EPIPE) means the same. The error listeners stay
    // attached afterwards: a late write to a dead terminal must not crash the process.
    const onGone = () => finish();
    const ignore = () => {};
    stdout.once("close", onGone);
    stdout.once("error", onGone);
    stdout.on("error", ignore);
    stdin.once("end", onGone);
    stdin.once("close", onGone);
    stdin.once("error", onGone);
    stdin.on("error", ignore);
    cleanups.push(() => {
      stdout.off("close", onGone);
      stdout.off("error", onGone);
      stdin.off("end", onGone);
      stdin.off("close", onGone);
      stdin.off("error", onGone);
    });

    // The title the App sets (node counts) replaces the terminal's own until the exit.
    if (interactive) writeQuietly(stdout, SAVE_TITLE);

    // Raw mode before the first frame: keys typed as soon as the screen appears are
    // neither echoed nor held back by the line discipline while Ink starts listening.
    try {
      if (stdin.isTTY && typeof stdin.setRawMode === "function") stdin.setRawMode(true);
    } catch {
      // Ink reports a stdin without raw mode itself
    }

    try {
      instance = render(
        // createElement, not JSX: JSX would make TypeScript import react/jsx-runtime
        // above production.js, loading React's development build first.
        createElement(
          ThemeContext.Provider,
          { value: theme },
          createElement(App, {
            api,
            keymap,
            readonly: options.readonly ?? false,
            ...(options.title ? { title: options.title } : {}),
            ...(onChange ? { onChange } : {}),
          }),
        ),
        {
          stdin,
          stdout,
          stderr: stdout,
          interactive,
          alternateScreen: true,
          patchConsole: false,
          exitOnCtrlC: false,
          // Live data has its own frame budget (App): this only caps key-driven frames, and
          // a key that lands just after a data frame waits for it — up to 50 ms at 20 fps,
          // most of the 40 ms keypress budget; at 60 fps up to 17 ms.
          maxFps: 60,
          incrementalRendering: true,
          ...(onRender ? { onRender } : {}),
        },
      );
    } catch (error) {
      finish(error);
      return;
    }
    instance.waitUntilExit().then(
      () => finish(),
      (error: unknown) => finish(error ?? new Error("the control center stopped")),
    );
  });
}
