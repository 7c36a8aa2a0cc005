import { useApp, useInput, useStdin, useStdout } from "ink";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { FederationApi, Snapshot } from "../core/domain/federation-types.js";
import { fleetTitle } from "../present/log-lines.js";
import { budgetSchedule, createCoalescer, createFrameBudget, type FrameBudget } from "./coalesce.js";
import { ControlCenter } from "./components/control-center.js";
import { runEffect } from "./effects.js";
import { toKeyPresses } from "./input.js";
import type { Keymap } from "./keymap.js";
import type { ScreenSize } from "./layout.js";
import { appReducer } from "./state/app-reducer.js";
import { type AppAction, type AppState, type Effect, initialState } from "./state/app-state.js";
import { readTerminalSize } from "./terminal.js";

export interface AppProps {
  api: FederationApi;
  keymap: Keymap;
  readonly?: boolean;
  title?: string;
  /**
   * Least milliseconds between snapshot deliveries (one render per tick at most);
   * bigger federations get longer pauses, so live data stays within a CPU budget.
   */
  snapshotIntervalMs?: number;
  /** For tests: a fixed clock and a fixed size instead of the terminal's. */
  clock?: () => number;
  size?: ScreenSize;
  /** Diagnostics: a key or a snapshot changed the state; `startedAt` (performance.now()) is when it came in. */
  onChange?: (startedAt: number) => void;
}

/**
 * Keeps the state in a ref so that a burst of keys is reduced key by key
 * against the latest state, then renders once. Effects queued by the reducer
 * are taken out and handed to `run` (which calls `runEffect`).
 */
function useAppStore(
  init: () => AppState,
  run: (effect: Effect) => void,
  onChange?: (startedAt: number) => void,
) {
  const ref = useRef<AppState | null>(null);
  if (ref.current === null) ref.current = init();
  const [, setVersion] = useState(0);
  const runRef = useRef(run);
  runRef.current = run;
  const changeRef = useRef(onChange);
  changeRef.current = onChange;
  const send = useCallback((actions: AppAction[]) => {
    const startedAt = changeRef.current ? performance.now() : 0;
    let state = ref.current as AppState;
    for (const action of actions) state = appReducer(state, action);
    const effects = state.effects;
    if (effects.length > 0) state = appReducer(state, { type: "effectsTaken" });
    if (state !== ref.current) {
      changeRef.current?.(startedAt);
      ref.current = state;
      setVersion((v) => v + 1);
    }
    for (const effect of effects) runRef.current(effect);
  }, []);
  return [ref.current, send] as const;
}

/** The control center bound to a federation and a terminal. */
export function App({
  api,
  keymap,
  readonly = false,
  title,
  snapshotIntervalMs = 50,
  clock = Date.now,
  size,
  onChange,
}: AppProps) {
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  const { exit } = useApp();
  const mounted = useRef(true);
  const sendRef = useRef<(actions: AppAction[]) => void>(() => {});
  const [now, setNow] = useState(clock);
  // The frame budget for live data, and the process's CPU time when the snapshot being drawn was taken in.
  const budgetRef = useRef<FrameBudget | null>(null);
  const drawingSince = useRef<NodeJS.CpuUsage | undefined>(undefined);

  const run = useCallback(
    (effect: Effect) => {
      void runEffect(api, effect, (action) => {
        if (mounted.current) sendRef.current([action]);
      });
    },
    [api],
  );

  const [state, send] = useAppStore(
    () =>
      initialState({ snapshot: api.getSnapshot(), size: size ?? readTerminalSize(stdout), keymap, readonly }),
    run,
    onChange,
  );
  sendRef.current = send;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  // Live data: newest snapshot only, at most one per tick; identical versions are skipped.
  useEffect(() => {
    let lastVersion = -1;
    // Live data may take at most ~8 % of a core to draw (measured: 10 000 tasks at
    // 10 snapshots a second took 25-45 % when every snapshot was drawn).
    const budget = createFrameBudget({ minMs: snapshotIntervalMs, maxMs: 1000, share: 0.08 });
    budgetRef.current = budget;
    const coalescer = createCoalescer<Snapshot>((snapshot) => {
      if (snapshot.version === lastVersion) return;
      lastVersion = snapshot.version;
      // The reducer runs here; React renders and Ink writes the frame later (React's scheduler):
      // what the frame cost is known once it is on screen (the layout effect below). CPU time,
      // not wall time: on a busy machine the wait for a core is not the frame's cost.
      drawingSince.current = process.cpuUsage();
      send([{ type: "snapshot", snapshot }]);
    }, budgetSchedule(budget));
    const unsubscribe = api.subscribe((snapshot) => coalescer.push(snapshot));
    coalescer.push(api.getSnapshot());
    return () => {
      unsubscribe();
      coalescer.cancel();
    };
  }, [api, send, snapshotIntervalMs]);

  // After Ink wrote the frame (it draws while React commits, before layout effects).
  useLayoutEffect(() => {
    const started = drawingSince.current;
    if (started === undefined) return;
    drawingSince.current = undefined;
    const used = process.cpuUsage(started);
    budgetRef.current?.spent((used.user + used.system) / 1000);
  });

  // This terminal's size, from the stdout we were given.
  useEffect(() => {
    if (size) return;
    const onResize = () => send([{ type: "resize", size: readTerminalSize(stdout) }]);
    stdout.on("resize", onResize);
    onResize();
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, send, size]);

  // Ages ("3s ago") move on by themselves, and messages expire.
  useEffect(() => {
    const timer = setInterval(() => {
      const at = clock();
      setNow(at);
      send([{ type: "tick", now: at }]);
    }, 1000);
    timer.unref?.();
    return () => clearInterval(timer);
  }, [clock, send]);

  useInput(
    (input, key) => {
      const presses = toKeyPresses(input, key);
      if (presses.length > 0) send(presses.map((k) => ({ type: "key", key: k })));
    },
    { isActive: isRawModeSupported },
  );

  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  // The terminal's title counts the nodes up and down: seen from another tab or a tmux status line.
  const terminalTitle = fleetTitle(state.snapshot.nodes);
  useEffect(() => {
    if ((stdout as NodeJS.WriteStream).isTTY) stdout.write(`\u001b]0;${terminalTitle}\u0007`);
  }, [stdout, terminalTitle]);

  return <ControlCenter state={state} now={now} {...(title ? { title } : {})} />;
}
