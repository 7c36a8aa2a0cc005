import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { childProcess } from "../infra/child-process.js";
import { userHome } from "../infra/paths.js";

export interface ServiceSpec {
  platform: NodeJS.Platform;
  home: string;
  nodeBin: string;
  cliBin: string;
  nodes: string[];
  env: NodeJS.ProcessEnv;
}

export interface ServiceFile {
  path: string;
  content: string;
  /** What makes the service manager pick it up (run for the user, or shown). */
  enable: string[][];
  disable: string[][];
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function systemdQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$])/g, "\\$1")}"`;
}

/** Pure: the launchd plist (macOS) or systemd user unit (Linux) that keeps `clawos node run` going. */
export function serviceFile(spec: ServiceSpec): ServiceFile {
  const args = [
    spec.nodeBin,
    spec.cliBin,
    "--home",
    spec.home,
    "node",
    "run",
    ...spec.nodes.flatMap((n) => ["--node", n]),
  ];
  const logDir = join(spec.home, "logs");
  if (spec.platform === "darwin") {
    const path = join(userHome(spec.env), "Library", "LaunchAgents", "ai.clawos.worker.plist");
    const content = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>ai.clawos.worker</string>
  <key>ProgramArguments</key>
  <array>
${args.map((a) => `    <string>${xmlEscape(a)}</string>`).join("\n")}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
  <key>StandardOutPath</key><string>${xmlEscape(join(logDir, "worker.out"))}</string>
  <key>StandardErrorPath</key><string>${xmlEscape(join(logDir, "worker.out"))}</string>
</dict>
</plist>
`;
    return {
      path,
      content,
      enable: [["launchctl", "load", "-w", path]],
      disable: [["launchctl", "unload", "-w", path]],
    };
  }
  const configHome = spec.env.XDG_CONFIG_HOME || join(userHome(spec.env), ".config");
  const path = join(configHome, "systemd", "user", "clawos-worker.service");
  const content = `[Unit]
Description=ClawOS Federation worker (clawos node run)
After=network-online.target

[Service]
ExecStart=${args.map(systemdQuote).join(" ")}
Restart=always
RestartSec=5
# Nodes whose token comes from an environment variable need it here, e.g.:
# Environment=LAPTOP_TOKEN=...   (or EnvironmentFile=%h/.config/clawos/worker.env, mode 600)

[Install]
WantedBy=default.target
`;
  return {
    path,
    content,
    enable: [
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "clawos-worker.service"],
    ],
    disable: [["systemctl", "--user", "disable", "--now", "clawos-worker.service"]],
  };
}

function tryRun(commands: string[][]): string[] {
  const notes: string[] = [];
  for (const [cmd, ...args] of commands) {
    const r = childProcess().spawnSync(cmd!, args, { encoding: "utf8", timeout: 20_000 });
    if (r.error || r.status !== 0) {
      notes.push(
        `could not run \`${[cmd, ...args].join(" ")}\` (${r.error?.message ?? r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`}); run it yourself`,
      );
      break;
    }
    notes.push(`ran \`${[cmd, ...args].join(" ")}\``);
  }
  return notes;
}

export async function installService(file: ServiceFile): Promise<string[]> {
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, file.content, { mode: 0o644 });
  return [`wrote ${file.path}`, ...tryRun(file.enable)];
}

export async function uninstallService(file: ServiceFile): Promise<string[]> {
  const notes = tryRun(file.disable);
  await rm(file.path, { force: true });
  return [...notes, `removed ${file.path}`];
}
