import { Text } from "ink";
import { auditLineText, NO_AUDIT_ENTRIES } from "../../../present/audit-lines.js";
import { toSafe } from "../../../present/safe-text.js";
import { ScrolledRows } from "../../components/scrolled-rows.js";
import { useTheme } from "../../theme.js";
import type { AuditViewState } from "./state.js";

export interface AuditViewProps {
  audit: AuditViewState;
  width: number;
  height: number;
}

/** The audit log, one entry a line as `clawos audit` prints it; refused and failed entries in the error tone. */
export function AuditView({ audit, width, height }: AuditViewProps) {
  const theme = useTheme();
  const lines = audit.lines;
  if (lines === null) return <Text dimColor>Reading the audit log…</Text>;
  if (lines.length === 0) return <Text dimColor>{NO_AUDIT_ENTRIES}</Text>;
  const renderLine = (index: number, key: number) => {
    const line = lines[index];
    if (!line) return <Text key={key}> </Text>;
    return (
      <Text key={key} wrap="truncate-end" color={line.result === "ok" ? undefined : theme.color("error")}>
        {auditLineText(toSafe(line))}
      </Text>
    );
  };
  return (
    <ScrolledRows
      count={lines.length}
      start={audit.scroll}
      width={width}
      height={height}
      renderLine={renderLine}
    />
  );
}
